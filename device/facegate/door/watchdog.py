"""The internal watchdog: if the main loop stops beating, lock the door at once.

It also stops feeding systemd's watchdog (the loop does that), so systemd restarts the service
if the loop never comes back. The alarm is recorded from this thread; the recorder is safe for
that, and waits for a slow disk rather than interleaving with the main loop's write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("facegate.door")


class LoopWatchdog:
    def __init__(
        self,
        stall_s: float,
        last_beat: Callable[[], float],
        lock: Callable[[], None],
        alarm: Callable[[float], None],
        stop: threading.Event,
    ) -> None:
        self._stall_s = stall_s
        self._last_beat = last_beat
        self._lock = lock
        self._alarm = alarm
        self._stop = stop
        self._thread = threading.Thread(target=self._watch, name="door-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _watch(self) -> None:
        fired = False
        while not self._stop.wait(min(0.5, self._stall_s / 4)):
            stalled = time.monotonic() - self._last_beat() > self._stall_s
            if stalled and not fired:
                fired = True
                self._lock()
                log.critical("main loop stalled for %.1f s: door locked", self._stall_s)
                self._alarm(self._stall_s)
            elif not stalled:
                fired = False
