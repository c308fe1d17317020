"""Once a second: retry events waiting in memory, and say when the outbox fills.

Past ``FILL_ALARM`` of its disk bound the outbox raises ``outbox_full`` (the door still works);
when events cannot be stored at all the door is out of service (no attempt starts, red light)
and that too is an ``outbox_full`` alarm, with ``out_of_service``.
"""

from __future__ import annotations

from facegate.door.desk import EventDesk
from facegate.hardware.indicators import Indicators
from facegate.mqtt.door_mqtt import DoorMqtt

FILL_ALARM = 0.8


class OutboxWatch:
    def __init__(self, desk: EventDesk, indicators: Indicators, mqtt: DoorMqtt | None) -> None:
        self._desk = desk
        self._indicators = indicators
        self._mqtt = mqtt
        self._fill_alarmed = self._full_alarmed = False

    def check(self) -> None:
        recorder = self._desk.recorder
        was_healthy = recorder.healthy
        recorder.retry()
        if was_healthy and not recorder.healthy:
            self._indicators.denied()
        self._desk.flush_floods()
        if self._mqtt is None:
            return
        outbox = self._mqtt.outbox
        fill = outbox.fill()
        if fill >= FILL_ALARM and not self._fill_alarmed:
            self._fill_alarmed = True
            self._desk.alarm(
                "outbox_full",
                {"fill": round(fill, 3), "depth": outbox.depth(), "out_of_service": False},
            )
        elif not recorder.healthy and not self._full_alarmed:
            self._full_alarmed = True
            self._desk.alarm(
                "outbox_full",
                {"fill": round(fill, 3), "out_of_service": True, "error": recorder.last_error},
            )
        if fill < FILL_ALARM / 2:
            self._fill_alarmed = False
        if recorder.healthy:
            self._full_alarmed = False
