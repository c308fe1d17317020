"""The one way the relay opens: ``open_for(seconds)``, refused while lockdown is on.

A grant, a remote unlock and the request-to-exit button all come here; nothing else pulses the
relay. Each opening also opens the door watch's authorised window (so the door opening then is
an entry, not ``door_forced``) and shows green.
"""

from __future__ import annotations

from collections.abc import Callable

from facegate.door.lockdown import Lockdown
from facegate.hardware.door import DoorRelay
from facegate.hardware.door_watch import DoorEvent, DoorWatch
from facegate.hardware.indicators import Indicators


class DoorOpener:
    def __init__(
        self,
        relay: DoorRelay,
        watch: DoorWatch,
        indicators: Indicators,
        lockdown: Lockdown,
        on_door_event: Callable[[DoorEvent], None],
    ) -> None:
        self.relay = relay
        self.watch = watch
        self.indicators = indicators
        self.lockdown = lockdown
        self._on_door_event = on_door_event

    def open_for(self, seconds: float, now: float) -> bool:
        """Unlock for ``seconds`` (``now``: monotonic time); False, and nothing moves, under
        lockdown."""
        if self.lockdown.on:
            return False
        self.relay.pulse(seconds)
        for event in self.watch.granted(now, seconds):
            self._on_door_event(event)
        self.indicators.granted(seconds)
        return True

    def lock(self) -> None:
        self.relay.lock()
