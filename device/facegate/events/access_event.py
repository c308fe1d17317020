"""The access event: one per attempt, whatever its outcome, in one JSON shape.

Only ids, reasons and measurements: never a name, an image, a template or a secret.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

SCHEMA_VERSION = 1


def new_event_id(now_s: float | None = None) -> str:
    """A unique id that sorts by time: 12 hex digits of Unix milliseconds, 16 random."""
    ms = int((time.time() if now_s is None else now_s) * 1000)
    return f"{ms:012x}{os.urandom(8).hex()}"


@dataclass(frozen=True)
class AccessEvent:
    device_id: str
    room: str
    attempt_id: str
    decision: str  # "granted" or "denied"
    reasons: tuple[str, ...]
    session_id: str | None = None
    student_id: str | None = None
    scores: dict = field(default_factory=dict)
    liveness: dict = field(default_factory=dict)
    second_factor: str | None = None
    latencies_ms: dict = field(default_factory=dict)
    event_id: str = field(default_factory=new_event_id)
    ts: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.decision not in ("granted", "denied"):
            raise ValueError(f"decision must be granted or denied, not {self.decision!r}")
        if not self.reasons:
            raise ValueError("an access event needs at least one reason")
        if self.decision == "granted" and self.reasons != ("granted",):
            raise ValueError("a granted attempt has the single reason 'granted'")

    def to_dict(self) -> dict:
        out = {"type": "access", **asdict(self)}
        out["reasons"] = list(self.reasons)
        return out
