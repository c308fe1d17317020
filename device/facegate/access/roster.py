"""Exam sessions: which students may enter which room, when, and with what factors.

The roster is a TOML file (docs/roster.md), validated as a whole before it replaces the one
in use: a bad file names the session and the key, and the door keeps the roster it had.

```toml
[[session]]
id = "math-101-final"
room = "B-204"
start = 2026-11-23T09:00:00+01:00   # with a UTC offset: a door has no business guessing
end = 2026-11-23T11:00:00+01:00
students = ["s1234", "s5678"]
second_factor = true                # ask for a TOTP code after the face (default false)
```
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from facegate.common.ids import STUDENT_ID_RULE, is_student_id
from facegate.errors import ConfigError


class ExamSession(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    room: str = Field(min_length=1, max_length=128)
    start: datetime
    end: datetime
    students: tuple[str, ...] = Field(min_length=1)
    second_factor: bool = False

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("needs a UTC offset, e.g. 2026-11-23T09:00:00+01:00")
        return value

    @field_validator("students")
    @classmethod
    def _ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = next((s for s in value if not is_student_id(s)), None)
        if bad is not None:
            raise ValueError(f"invalid student id {bad!r}: {STUDENT_ID_RULE}")
        ids = tuple(value)
        if len(set(ids)) != len(ids):
            raise ValueError("a student is listed twice")
        return ids

    @model_validator(mode="after")
    def _order(self) -> ExamSession:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def is_open(self, now: datetime) -> bool:
        return self.start <= now < self.end

    def allows(self, student_id: str) -> bool:
        return student_id in self.students


class Roster(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    session: tuple[ExamSession, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Roster:
        ids = [s.id for s in self.session]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"session id {dupes[0]!r} is used twice")
        by_room: dict[str, list[ExamSession]] = {}
        for s in self.session:
            by_room.setdefault(s.room, []).append(s)
        for room, sessions in by_room.items():
            sessions.sort(key=lambda s: s.start)
            for a, b in pairwise(sessions):
                if b.start < a.end:
                    raise ValueError(f"sessions {a.id!r} and {b.id!r} overlap in room {room!r}")
        return self

    def current(self, room: str, now: datetime) -> ExamSession | None:
        """The session open in ``room`` at ``now`` (timezone-aware), or None: door stays shut."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return next((s for s in self.session if s.room == room and s.is_open(now)), None)

    def by_id(self, session_id: str) -> ExamSession | None:
        return next((s for s in self.session if s.id == session_id), None)


def load_roster(path: Path) -> Roster:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"roster file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"roster file {path} cannot be read: {exc}") from None
    try:
        return Roster.model_validate(data)
    except ValidationError as exc:
        lines = [f"invalid roster {path}:"]
        for item in exc.errors():
            loc = item["loc"]
            where = ".".join(str(p) for p in loc) or "(top level)"
            if len(loc) >= 2 and loc[0] == "session" and isinstance(loc[1], int):
                sessions = data.get("session") or []
                sid = sessions[loc[1]].get("id", "?") if loc[1] < len(sessions) else "?"
                where = f"session {sid!r} ({'.'.join(str(p) for p in loc[2:]) or 'whole'})"
            message = item["msg"]
            if item["type"] == "extra_forbidden":
                message = "unknown key (see docs/roster.md)"
            lines.append(f"  {where}: {message}")
        raise ConfigError("\n".join(lines)) from None
