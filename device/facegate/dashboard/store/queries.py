"""Reads for the pages: doors, recent and filtered events, alarms, commands, diagnostics."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from facegate.dashboard.store.tables import (
    alarm_acks,
    alarms,
    bad_messages,
    commands,
    doors,
    events,
    health_samples,
    topic_last,
    users,
)

PAGE = 100


async def all_doors(engine: AsyncEngine) -> list:
    async with engine.connect() as conn:
        return (await conn.execute(select(doors).order_by(doors.c.device_id))).all()


async def door(engine: AsyncEngine, device_id: str):
    async with engine.connect() as conn:
        return (await conn.execute(select(doors).where(doors.c.device_id == device_id))).first()


async def recent_access(engine: AsyncEngine, limit: int, after: str | None = None) -> list[dict]:
    """The newest access events (newest first), or those after ``after`` (a reconnect)."""
    stmt = select(events.c.payload).where(events.c.type == "access")
    if after is not None:
        stmt = stmt.where(events.c.event_id > after)
    stmt = stmt.order_by(events.c.event_id.desc()).limit(limit)
    async with engine.connect() as conn:
        return [json.loads(r.payload) for r in await conn.execute(stmt)]


async def event(engine: AsyncEngine, event_id: str) -> dict | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(events.c.payload).where(events.c.event_id == event_id))
        ).first()
    return json.loads(row.payload) if row else None


@dataclass(frozen=True)
class HistoryFilter:
    device_id: str = ""
    decision: str = ""  # granted | denied | alarm
    reason: str = ""
    student_id: str = ""
    session_id: str = ""
    day_from: date | None = None
    day_to: date | None = None
    before: str = ""  # event_id: the page after the one shown


def _filtered(f: HistoryFilter):
    stmt = select(events)
    if f.device_id:
        stmt = stmt.where(events.c.device_id == f.device_id)
    if f.decision == "alarm":
        stmt = stmt.where(events.c.type == "alarm")
    elif f.decision in ("granted", "denied"):
        stmt = stmt.where(events.c.decision == f.decision)
    if f.reason:
        # reasons are a comma list; alarms match on their kind
        pattern = f"%{f.reason}%"
        stmt = stmt.where((events.c.reasons.like(pattern)) | (events.c.kind == f.reason))
    if f.student_id:
        stmt = stmt.where(events.c.student_id == f.student_id)
    if f.session_id:
        stmt = stmt.where(events.c.session_id == f.session_id)
    if f.day_from:
        stmt = stmt.where(events.c.ts >= f.day_from.isoformat())
    if f.day_to:
        stmt = stmt.where(events.c.ts < f"{f.day_to.isoformat()}T99")
    return stmt


async def history(engine: AsyncEngine, f: HistoryFilter, limit: int = PAGE) -> list:
    stmt = _filtered(f)
    if f.before:
        stmt = stmt.where(events.c.event_id < f.before)
    stmt = stmt.order_by(events.c.event_id.desc()).limit(limit)
    async with engine.connect() as conn:
        return (await conn.execute(stmt)).all()


async def alarm_rows(engine: AsyncEngine, include_closed: bool = False, limit: int = 200) -> list:
    stmt = select(alarms)
    if not include_closed:
        stmt = stmt.where(alarms.c.state != "closed")
    stmt = stmt.order_by(alarms.c.id.desc()).limit(limit)
    async with engine.connect() as conn:
        return (await conn.execute(stmt)).all()


async def alarm(engine: AsyncEngine, alarm_id: int):
    async with engine.connect() as conn:
        return (await conn.execute(select(alarms).where(alarms.c.id == alarm_id))).first()


async def acks_for(engine: AsyncEngine, ids: list[int]) -> dict[int, list]:
    if not ids:
        return {}
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(alarm_acks).where(alarm_acks.c.alarm_id.in_(ids)).order_by(alarm_acks.c.id)
        )
        out: dict[int, list] = {}
        for r in rows:
            out.setdefault(r.alarm_id, []).append(r)
        return out


async def command_rows(engine: AsyncEngine, limit: int = 500, since: float | None = None) -> list:
    stmt = select(commands)
    if since is not None:
        stmt = stmt.where(commands.c.created_at >= since)
    stmt = stmt.order_by(commands.c.created_at.desc()).limit(limit)
    async with engine.connect() as conn:
        return (await conn.execute(stmt)).all()


async def command(engine: AsyncEngine, nonce: str):
    async with engine.connect() as conn:
        return (await conn.execute(select(commands).where(commands.c.nonce == nonce))).first()


async def user_rows(engine: AsyncEngine) -> list:
    async with engine.connect() as conn:
        return (
            await conn.execute(
                select(users.c.id, users.c.name, users.c.role, users.c.disabled).order_by(
                    users.c.name
                )
            )
        ).all()


async def user_by_name(engine: AsyncEngine, name: str):
    async with engine.connect() as conn:
        return (await conn.execute(select(users).where(users.c.name == name))).first()


async def topics(engine: AsyncEngine, limit: int = 2000) -> list:
    async with engine.connect() as conn:
        return (
            await conn.execute(select(topic_last).order_by(topic_last.c.topic).limit(limit))
        ).all()


async def bad_summary(engine: AsyncEngine) -> tuple[list, list]:
    """(counts per door and problem, the latest 100 bad messages)."""
    async with engine.connect() as conn:
        counts = (
            await conn.execute(
                select(bad_messages.c.device_id, bad_messages.c.problem, func.count())
                .group_by(bad_messages.c.device_id, bad_messages.c.problem)
                .order_by(func.count().desc())
            )
        ).all()
        latest = (
            await conn.execute(select(bad_messages).order_by(bad_messages.c.id.desc()).limit(100))
        ).all()
    return counts, latest


async def depth_series(engine: AsyncEngine, since: float) -> dict[str, list[tuple[float, int]]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(health_samples.c.device_id, health_samples.c.at, health_samples.c.outbox_depth)
            .where(health_samples.c.at >= since)
            .order_by(health_samples.c.at)
        )
        out: dict[str, list[tuple[float, int]]] = {}
        for r in rows:
            out.setdefault(r.device_id, []).append((r.at, r.outbox_depth))
        return out


async def count_events(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(events))).scalar_one())
