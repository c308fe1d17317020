"""Has the system clock been synchronised since boot?

A Pi has no battery-backed clock: until NTP has set it, its time may be days off, and a
signed command's timestamp check would accept a stale (replayed) command or refuse a fresh
one. The kernel knows: ``adjtimex`` reports the clock unsynchronised (``TIME_ERROR``, the
``STA_UNSYNC`` flag) until an NTP client (systemd-timesyncd, chrony) disciplines it;
systemd-timesyncd also touches ``/run/systemd/timesync/synchronized``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

TIMESYNCD_FLAG = Path("/run/systemd/timesync/synchronized")
_TIME_ERROR = 5
_STA_UNSYNC = 0x0040


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    """``struct timex`` of <sys/timex.h> (Linux, LP64 and ILP32 alike: longs and ints)."""

    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


def kernel_clock_synchronised() -> bool:
    """True when timesyncd says so or the kernel's NTP state is not unsynchronised."""
    if TIMESYNCD_FLAG.exists():
        return True
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    timex = _Timex()  # modes = 0: read only
    state = libc.adjtimex(ctypes.byref(timex))
    return state >= 0 and state != _TIME_ERROR and not timex.status & _STA_UNSYNC


class ClockSync:
    """Latches once the clock has been synchronised (a later NTP hiccup does not undo it)."""

    def __init__(self, required: bool, probe=kernel_clock_synchronised) -> None:
        self.required = required
        self._probe = probe
        self._seen = not required

    @property
    def synchronised(self) -> bool:
        if not self._seen:
            self._seen = bool(self._probe())
        return self._seen
