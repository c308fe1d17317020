"""What the door contact means: a normal entry, a forced door, or a door held open.

Pure logic with the time passed in (monotonic seconds); the GPIO side is
:class:`facegate.hardware.door_sensors.DoorSensors`. A grant or a request-to-exit opens an
authorised window as long as the relay pulse; the door opening inside a window is an entry,
opening outside one is ``door_forced``. A door open longer than ``held_open_s`` raises
``door_held_open`` once per opening. Each call returns what changed, as plain dataclasses, in
the order it happened: alarms for the event log, :class:`DoorState` for ``door/state``.

A door already open when facegate starts is reported as forced on its first contact report:
nobody granted it, and a proctor should look.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

DoorAlarmKind = Literal["door_forced", "door_held_open"]


class DoorStatus(StrEnum):
    """The value published on ``door/state``."""

    LOCKED = "locked"
    UNLOCKED = "unlocked"
    OPEN = "open"


@dataclass(frozen=True)
class DoorState:
    status: DoorStatus
    t: float


@dataclass(frozen=True)
class DoorAlarm:
    kind: DoorAlarmKind
    t: float
    open_for_s: float = 0.0


DoorEvent = DoorAlarm | DoorState


class DoorWatch:
    def __init__(self, held_open_s: float = 15.0) -> None:
        if held_open_s <= 0:
            raise ValueError("held_open_s must be positive")
        self.held_open_s = held_open_s
        self._authorised_until: float | None = None
        self._opened_at: float | None = None
        self._held_reported = False
        self._status = DoorStatus.LOCKED

    @property
    def status(self) -> DoorStatus:
        return self._status

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def _authorised(self, t: float) -> bool:
        return self._authorised_until is not None and t <= self._authorised_until

    def _set(self, status: DoorStatus, t: float, out: list[DoorEvent]) -> None:
        if status != self._status:
            self._status = status
            out.append(DoorState(status, t))

    def granted(self, t: float, seconds: float) -> list[DoorEvent]:
        """The relay was pulsed for ``seconds`` at ``t`` (a grant or a request-to-exit)."""
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        out = self.tick(t)
        end = t + seconds
        if self._authorised_until is None or end > self._authorised_until:
            self._authorised_until = end
        if not self.is_open:
            self._set(DoorStatus.UNLOCKED, t, out)
        return out

    def contact(self, opened: bool, t: float) -> list[DoorEvent]:
        """The contact reported the door ``opened`` (True) or closed (False) at ``t``."""
        out = self.tick(t)
        if opened == self.is_open:
            return out  # a repeated report changes nothing
        if opened:
            if not self._authorised(t):
                out.append(DoorAlarm("door_forced", t))
            self._opened_at, self._held_reported = t, False
            self._set(DoorStatus.OPEN, t, out)
        else:
            self._opened_at = None
            self._set(DoorStatus.UNLOCKED if self._authorised(t) else DoorStatus.LOCKED, t, out)
        return out

    def tick(self, t: float) -> list[DoorEvent]:
        """Call often (e.g. every second): the held-open alarm and the relock come from here."""
        out: list[DoorEvent] = []
        if self._authorised_until is not None and t > self._authorised_until:
            self._authorised_until = None
            if not self.is_open:
                self._set(DoorStatus.LOCKED, t, out)
        if (
            self._opened_at is not None
            and not self._held_reported
            and t - self._opened_at > self.held_open_s
        ):
            self._held_reported = True
            out.append(DoorAlarm("door_held_open", t, t - self._opened_at))
        return out
