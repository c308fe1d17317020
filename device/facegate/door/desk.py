"""Every event the door makes goes through the desk: stored first, then shown.

An event is in the journal and the outbox (both synced) before anything acts on it; then it
goes to the extra sinks, the listener and the retained last decision. Alarms of the kinds that
can flood are rate-limited. Safe for concurrent use: the internal watchdog raises its alarm
from its own thread (the recorder itself holds the lock that keeps the order).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from facegate.access.flow import Place
from facegate.door.alarm_limits import AlarmLimiter
from facegate.door.listener import DoorListener
from facegate.events.alarm_event import AlarmEvent
from facegate.events.journal import EventSink
from facegate.events.recorder import EventRecorder
from facegate.mqtt.door_mqtt import DoorMqtt

log = logging.getLogger("facegate.door")

# Kinds that can come in floods (a forged-command storm, a flapping reed contact).
LIMITED = ("command_rejected", "door_forced")


class EventDesk:
    def __init__(
        self,
        recorder: EventRecorder,
        place: Place,
        listener: DoorListener,
        sinks: list[EventSink],
        mqtt: DoorMqtt | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recorder = recorder
        self.place = place
        self._listener = listener
        self._sinks = sinks
        self._mqtt = mqtt
        self._clock = clock
        self._lock = threading.RLock()
        self._limits = {kind: AlarmLimiter() for kind in LIMITED}
        self.attempts = self.granted = 0

    def emit(self, event: dict) -> bool:
        """Journal and outbox first (both synced); False when the event had to wait in memory.

        A failing extra sink must not lose the stored copies.
        """
        with self._lock:
            kept = self.recorder.record(event)
            for sink in self._sinks:
                try:
                    sink.emit(event)
                except Exception:
                    log.exception("event sink %s failed; the event is in the journal", sink)
            self._listener.on_event(event)
            return kept

    def alarm(self, kind: str, detail: dict, attempt_id: str | None = None) -> bool:
        """Record an alarm; one of a flood is counted instead (True: nothing failed)."""
        with self._lock:
            limiter = self._limits.get(kind)
            if limiter is not None:
                earlier = limiter.admit(self._clock())
                if earlier is None:
                    return True
                if earlier:
                    detail = {**detail, "suppressed": earlier}
            event = AlarmEvent(self.place.device_id, self.place.room, kind, detail, attempt_id)
            log.warning("alarm %s %s", kind, detail)
            return self.emit(event.to_dict())

    def decided(self, event: dict) -> bool:
        """An access decision: stored, counted, published as the retained last decision."""
        kept = self.emit(event)
        if self._mqtt is not None:
            self._mqtt.last_decision(event)
        self.attempts += 1
        self.granted += event["decision"] == "granted"
        log.info(
            "attempt %s %s: %s%s",
            event["attempt_id"],
            event["decision"],
            ",".join(event["reasons"]),
            f" (student {event['student_id']})" if event.get("student_id") else "",
        )
        return kept

    def flush_floods(self) -> None:
        """Once a second: a flood that ended gets its summary alarm."""
        for kind, limiter in self._limits.items():
            earlier = limiter.flood_over(self._clock())
            if earlier:
                self.alarm(kind, {"suppressed": earlier})
