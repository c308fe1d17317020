"""``[access]``: the attempt's timing, the roster, attendance."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from facegate.config.base import Section


class AccessConfig(Section):
    # The exam roster (docs/roster.md). None: no session is ever open and the door stays shut.
    roster_file: Path | None = None
    # Search only the current session's students (1:N over a few dozen instead of everyone);
    # the nearest enrolled student overall must still be the one accepted.
    limit_search_to_session: bool = True
    # How many of the attempt's best frames are embedded and averaged.
    frames_to_embed: int = Field(default=3, ge=1, le=10)
    face_lost_s: float = Field(default=1.0, gt=0.0, le=10.0)
    recognition_timeout_s: float = Field(default=5.0, gt=0.0, le=60.0)
    code_timeout_s: float = Field(default=30.0, gt=1.0, le=300.0)
    cooldown_s: float = Field(default=2.0, ge=0.0, le=60.0)
    # Record who entered, per session (facegate attendance SESSION --csv).
    attendance: bool = True
    # One person per attempt: the largest cosine distance between the attempt's frames (best
    # and around its blinks). None: the limit measured for the embedder (docs/liveness.md).
    binding_limit: float | None = Field(default=None, gt=0.0, lt=2.0)
    # A not_on_roster event names the student only if set: otherwise a door that is not the
    # student's exam room does not record who tried it (the id stays out of the event).
    name_students_not_on_roster: bool = False
    # A face refused as a stranger (unknown_face) that stays in view gets no second free draw:
    # when a later attempt of the same presence recognises it, the TOTP code is asked for
    # (docs/security.md, "Retrying a stranger").
    code_after_unknown_face: bool = True

    @field_validator("roster_file")
    @classmethod
    def _roster_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"roster file {v} does not exist")
        return v
