"""The sd_notify(3) protocol: tell systemd READY, STATUS, WATCHDOG and STOPPING.

Under ``Type=notify`` systemd passes ``$NOTIFY_SOCKET``, a unix datagram socket given as a file
system path (``/run/systemd/notify``) or as an abstract name (``@...``); each datagram holds
newline-separated ``KEY=VALUE`` assignments. With ``WatchdogSec=`` it also passes
``$WATCHDOG_USEC`` (and ``$WATCHDOG_PID``, the process meant to ping); the service must send
``WATCHDOG=1`` more often than that, customarily every half of it.

Outside systemd (a developer's shell, the demo, the tests) ``$NOTIFY_SOCKET`` is unset and every
method is a no-op that returns False: running without systemd is allowed.

Written here rather than taken from PyPI, on purpose: ``systemd-python`` and ``cysystemd`` are C
extensions that need libsystemd headers to build in a venv; ``sdnotify`` (0.3.2, 2017) and
``sd-notify`` (0.1.0, 2020) are unmaintained; ``systemd-watchdog`` times its pings with the wall
clock (``datetime.now()``), which jumps when a Pi without an RTC battery syncs its time at boot.
The protocol is a stable, documented datagram format; these few lines check ``$WATCHDOG_PID``,
keep one socket, never raise, and leave the ping timing to the daemon's monotonic clock.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping
from types import TracebackType

log = logging.getLogger(__name__)


def _address(value: str | None) -> str | None:
    """The sendto() address for $NOTIFY_SOCKET, or None when it is unset or unusable."""
    if not value:
        return None
    if value.startswith("/"):
        return value
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]  # Linux abstract namespace
    log.warning("NOTIFY_SOCKET=%r is not a unix socket path; systemd notifications are off", value)
    return None


def _one_line(text: str) -> str:
    # A newline would start a new assignment (e.g. a forged READY=1 or MAINPID=).
    return " ".join(text.splitlines()).strip()


class SystemdNotifier:
    """Sends sd_notify messages to ``$NOTIFY_SOCKET``; a no-op when it is unset.

    ``environ`` defaults to ``os.environ`` (read once, at construction); ``pid`` to the current
    process id, compared with ``$WATCHDOG_PID``. Sending never raises: a failure is logged once
    and the call returns False (the missed WATCHDOG=1 then lets systemd restart the service).
    """

    def __init__(self, environ: Mapping[str, str] | None = None, pid: int | None = None) -> None:
        env = os.environ if environ is None else environ
        self._address = _address(env.get("NOTIFY_SOCKET"))
        self._watchdog_usec = _watchdog_usec(env, os.getpid() if pid is None else pid)
        self._sock: socket.socket | None = None
        self._warned = False

    @property
    def enabled(self) -> bool:
        """True when running under a service manager that listens for notifications."""
        return self._address is not None

    def watchdog_interval(self) -> float | None:
        """Seconds between WATCHDOG=1 pings (half of $WATCHDOG_USEC), or None: no watchdog.

        As sd_watchdog_enabled(3): $WATCHDOG_USEC must be a positive integer, and
        $WATCHDOG_PID, when set, must be this process.
        """
        return None if self._watchdog_usec is None else self._watchdog_usec / 2_000_000

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=VALUE`` assignments in one datagram; True when it was sent."""
        if self._address is None or not assignments:
            return False
        payload = "\n".join(assignments).encode("utf-8")
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(payload, self._address)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("cannot notify systemd at %s: %s", self._address.lstrip("\0"), exc)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """Start-up is complete (camera, GPIO, models loaded); ends the 'activating' state."""
        return self.send("READY=1", *(() if status is None else (f"STATUS={_one_line(status)}",)))

    def status(self, text: str) -> bool:
        """A one-line status for ``systemctl status`` (never secrets or student data)."""
        return self.send(f"STATUS={_one_line(text)}")

    def watchdog(self) -> bool:
        """The main loop is alive: reset the watchdog timer."""
        return self.send("WATCHDOG=1")

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more time to start or stop (e.g. a slow first model load)."""
        return self.send(f"EXTEND_TIMEOUT_USEC={max(0, round(seconds * 1_000_000))}")

    def reloading(self) -> bool:
        """A reload began (``systemctl reload``): READY=1 follows when it is done."""
        return self.send("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")

    def stopping(self, status: str | None = None) -> bool:
        """Shutdown has begun (the door is locked, the outbox is being flushed)."""
        return self.send(
            "STOPPING=1", *(() if status is None else (f"STATUS={_one_line(status)}",))
        )

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> SystemdNotifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _watchdog_usec(env: Mapping[str, str], pid: int) -> int | None:
    raw = env.get("WATCHDOG_USEC", "")
    if not raw.isdigit() or int(raw) <= 0:
        return None
    owner = env.get("WATCHDOG_PID")
    if owner is not None and owner.strip() != str(pid):
        return None  # the watchdog belongs to another process (e.g. our parent)
    return int(raw)
