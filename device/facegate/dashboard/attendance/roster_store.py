"""Import the doors' roster TOML (validated by facegate's own roster code) and read it back."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from facegate.access.roster import Roster, load_roster
from facegate.dashboard.store.tables import events, roster_sessions, roster_students

MAX_ROSTER_BYTES = 2 * 1024 * 1024


def parse_roster_text(text: str) -> Roster:
    """The same validation and messages as on the door (load_roster reads a file)."""
    with tempfile.TemporaryDirectory(prefix="facegate-roster-") as tmp:
        path = Path(tmp) / "roster.toml"
        path.write_text(text, encoding="utf-8")
        return load_roster(path)


async def import_roster(engine: AsyncEngine, roster: Roster, by: str) -> int:
    """Add or replace every session of the roster; returns how many."""
    now = time.time()
    async with engine.begin() as conn:
        for s in roster.session:
            await conn.execute(delete(roster_students).where(roster_students.c.session_id == s.id))
            await conn.execute(delete(roster_sessions).where(roster_sessions.c.session_id == s.id))
            await conn.execute(
                roster_sessions.insert().values(
                    session_id=s.id,
                    room=s.room,
                    start=s.start.isoformat(),
                    end=s.end.isoformat(),
                    imported_by=by,
                    imported_at=now,
                )
            )
            await conn.execute(
                roster_students.insert(),
                [{"session_id": s.id, "student_id": sid} for sid in s.students],
            )
    return len(roster.session)


async def list_sessions(engine: AsyncEngine) -> list:
    async with engine.connect() as conn:
        return (
            await conn.execute(select(roster_sessions).order_by(roster_sessions.c.start.desc()))
        ).all()


async def session_data(engine: AsyncEngine, session_id: str):
    """(the session row or None, expected student ids, its access events oldest first)."""
    async with engine.connect() as conn:
        session = (
            await conn.execute(
                select(roster_sessions).where(roster_sessions.c.session_id == session_id)
            )
        ).first()
        if session is None:
            return None, [], []
        expected = [
            r.student_id
            for r in await conn.execute(
                select(roster_students.c.student_id).where(
                    roster_students.c.session_id == session_id
                )
            )
        ]
        rows = await conn.execute(
            select(
                events.c.student_id,
                events.c.decision,
                events.c.ts,
                events.c.device_id,
                events.c.reasons,
            )
            .where(events.c.session_id == session_id)
            .where(events.c.type == "access")
            .order_by(events.c.ts, events.c.event_id)
        )
        return session, expected, [dict(r._mapping) for r in rows]
