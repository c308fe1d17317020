"""The door relay: off unless a grant is pulsing it, and off on every way out.

A gpiozero ``OutputDevice`` created with its initial value off. :meth:`DoorRelay.pulse` turns it
on for the unlock time and off again from a timer; :meth:`lock` turns it off at once and
cancels any pulse. ``close`` (also on ``with`` exit and on garbage collection) locks first.
"""

from __future__ import annotations

import threading

from gpiozero import OutputDevice


class DoorRelay:
    def __init__(self, pin: int, active_high: bool = True, unlock_s: float = 3.0) -> None:
        if unlock_s <= 0:
            raise ValueError("unlock_s must be positive")
        self._device = OutputDevice(pin, active_high=active_high, initial_value=False)
        self._unlock_s = unlock_s
        self._lock = threading.RLock()  # re-entered by a signal handler on this thread
        self._timer: threading.Timer | None = None

    @property
    def unlocked(self) -> bool:
        return bool(self._device.value)

    def pulse(self, seconds: float | None = None) -> None:
        """Unlock for ``seconds`` (default: the configured unlock time), then lock."""
        with self._lock:
            self._cancel()
            self._timer = threading.Timer(seconds or self._unlock_s, self.lock)
            self._timer.daemon = True
            self._device.on()
            self._timer.start()

    def lock(self) -> None:
        with self._lock:
            self._cancel()
            if not self._device.closed:
                self._device.off()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close(self) -> None:
        self.lock()
        self._device.close()

    def __enter__(self) -> DoorRelay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
