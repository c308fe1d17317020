"""The alarm event: something a proctor must look at that is not one student's attempt.

Door forced or held open, the camera lost, a lockout, a spoof attempt, a roster that did not
load. Same rules as access events: ids and measurements only, never an image or a secret.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from facegate.events.access_event import SCHEMA_VERSION, new_event_id

ALARM_KINDS = frozenset(
    {
        "door_forced",
        "door_held_open",
        "camera_error",
        "camera_restored",
        "locked_out",
        "spoof_attempt",
        "roster_invalid",
        "watchdog_stall",
        "command_rejected",
        "remote_command",
        "outbox_full",
        "event_store_failed",
        "exit_request",
        "attendance_failed",
        "gallery_invalid",
        "keypad_error",
        "keypad_restored",
    }
)


@dataclass(frozen=True)
class AlarmEvent:
    device_id: str
    room: str
    kind: str
    detail: dict = field(default_factory=dict)
    attempt_id: str | None = None
    event_id: str = field(default_factory=new_event_id)
    ts: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.kind not in ALARM_KINDS:
            raise ValueError(f"unknown alarm kind {self.kind!r}")

    def to_dict(self) -> dict:
        return {"type": "alarm", **asdict(self)}
