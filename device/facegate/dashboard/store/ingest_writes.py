"""One transaction per batch of MQTT messages: events de-duplicated, doors, alarms, answers.

The caller acknowledges the batch's QoS 1 messages only after :func:`write_batch` returned,
so every message is either committed or will be delivered again; a redelivered event is
dropped by the primary key (``ON CONFLICT DO NOTHING RETURNING`` says which rows were new).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from facegate.dashboard.alarms.rules import collapses, raises_alarm
from facegate.dashboard.ingest.messages import (
    BadMessage,
    CommandAnswer,
    DoorField,
    EventRecord,
    Ignored,
    Incoming,
    Parsed,
)
from facegate.dashboard.store.engine import dialect_insert
from facegate.dashboard.store.tables import (
    alarms,
    bad_messages,
    commands,
    doors,
    events,
    health_samples,
    topic_last,
)

TOPIC_EXCERPT = 2000


@dataclass
class Written:
    """What changed, for the live pages (only what is new: a duplicate changes nothing)."""

    new_events: list[dict] = field(default_factory=list)
    doors: set[str] = field(default_factory=set)
    alarms_new: list[int] = field(default_factory=list)
    alarms_changed: list[int] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # command nonces answered
    sessions: set[str] = field(default_factory=set)  # attendance to refresh
    bad: int = 0
    topics: dict = field(default_factory=dict)  # the topic tallies this commit wrote
    rooms: dict[str, str] = field(default_factory=dict)  # rooms this commit wrote


def _event_row(record: EventRecord, at: float) -> dict:
    e = record.event
    return {
        "event_id": e["event_id"],
        "device_id": record.device_id,
        "type": e["type"],
        "ts": e["ts"],
        "decision": e.get("decision"),
        "kind": e.get("kind"),
        "reasons": ",".join(e.get("reasons") or []) or None,
        "student_id": e.get("student_id"),
        "session_id": e.get("session_id"),
        "payload": record.payload,
        "received_at": at,
    }


class TopicTally:
    """'Last message per topic' for diagnostics, written at most every ``every_s`` seconds:
    200 doors' events would otherwise cost 200 upserts per batch."""

    def __init__(self, every_s: float = 5.0) -> None:
        self._every = every_s
        self._pending: dict[str, tuple[str, float, int]] = {}
        self._flushed_at = 0.0

    def add(self, incoming: Incoming) -> None:
        _, _, count = self._pending.get(incoming.topic, ("", 0.0, 0))
        excerpt = incoming.payload[:TOPIC_EXCERPT].decode("utf-8", "replace")
        self._pending[incoming.topic] = (excerpt, incoming.at, count + 1)

    def due(self, now: float) -> dict[str, tuple[str, float, int]]:
        if now - self._flushed_at < self._every:
            return {}
        self._flushed_at = now
        pending, self._pending = self._pending, {}
        return pending


async def write_batch(
    conn: AsyncConnection,
    batch: list[tuple[Incoming, Parsed]],
    flood_window_s: float,
    tally: TopicTally | None = None,
    rooms: dict[str, str] | None = None,
) -> Written:
    """``rooms``: the rooms already stored per door (a cache the caller keeps), so a door's
    row is rewritten for an event only when its room is new or changed."""
    insert = dialect_insert(conn)
    out = Written()
    rows: dict[str, dict] = {}
    door_updates: dict[str, dict] = {}
    tally = tally if tally is not None else TopicTally(0.0)
    rooms = rooms if rooms is not None else {}
    for incoming, parsed in batch:
        tally.add(incoming)
        if isinstance(parsed, EventRecord):
            rows.setdefault(parsed.event["event_id"], _event_row(parsed, incoming.at))
            room = parsed.event.get("room") or ""
            if rooms.get(parsed.device_id) != room:
                door_updates.setdefault(parsed.device_id, {})["room"] = room or None
        elif isinstance(parsed, DoorField):
            _door_field(door_updates.setdefault(parsed.device_id, {}), parsed, incoming.at)
            if parsed.field == "health":
                await conn.execute(
                    health_samples.insert().values(
                        device_id=parsed.device_id,
                        at=incoming.at,
                        outbox_depth=int((parsed.parsed or {}).get("outbox_depth", 0)),
                    )
                )
        elif isinstance(parsed, CommandAnswer):
            if await _answer(conn, parsed, incoming.at):
                out.answers.append(parsed.answer["nonce"])
        elif isinstance(parsed, BadMessage):
            out.bad += 1
            await conn.execute(
                bad_messages.insert().values(
                    topic=parsed.topic[:300],
                    device_id=parsed.device_id,
                    problem=parsed.problem,
                    error=parsed.error[:500],
                    excerpt=parsed.excerpt[:200],
                    at=incoming.at,
                )
            )
        else:
            assert isinstance(parsed, Ignored)
    if rows:
        result = await conn.execute(
            insert(events).on_conflict_do_nothing().returning(events.c.event_id),
            list(rows.values()),
        )
        new_ids = {r[0] for r in result}
        for event_id, row in rows.items():
            if event_id in new_ids:
                event = json.loads(row["payload"])
                out.new_events.append(event)
                if event["type"] == "access" and event.get("session_id"):
                    out.sessions.add(event["session_id"])
                if event["type"] == "alarm" and raises_alarm(event["kind"]):
                    await _alarm(conn, event, row["received_at"], flood_window_s, out)
    for device_id, values in door_updates.items():
        if "room" in values:
            out.rooms[device_id] = values["room"] or ""
        stmt = insert(doors).values(device_id=device_id, **values)
        stmt = stmt.on_conflict_do_update(index_elements=[doors.c.device_id], set_=values)
        await conn.execute(stmt)
        out.doors.add(device_id)
    topics = tally.due(batch[-1][0].at if batch else 0.0)
    out.topics = topics
    for topic, (payload, at, count) in topics.items():
        stmt = insert(topic_last).values(topic=topic[:300], payload=payload, at=at, count=count)
        stmt = stmt.on_conflict_do_update(
            index_elements=[topic_last.c.topic],
            set_={"payload": payload, "at": at, "count": topic_last.c.count + count},
        )
        await conn.execute(stmt)
    return out


def _door_field(values: dict, parsed: DoorField, at: float) -> None:
    if parsed.field == "status":
        values.update(status=parsed.value, status_at=at)
    elif parsed.field == "state":
        values.update(state=parsed.value, state_at=at)
    elif parsed.field == "health":
        values.update(health=parsed.value, health_at=at)
    else:
        values.update(last_decision=parsed.value)


async def _answer(conn: AsyncConnection, parsed: CommandAnswer, at: float) -> bool:
    """Settle our pending command with the door's answer (also one that came after the
    timeout: the door did act, and the audit must say so)."""
    a = parsed.answer
    if not a.get("nonce"):
        return False
    result = a.get("result") or {}
    values = {
        "state": "accepted" if a["accepted"] else "refused",
        "reason": a["reason"],
        "detail": str(a.get("detail", ""))[:500],
        "answered_at": at,
    }
    if result.get("sealed_code"):
        values["sealed_code"] = result["sealed_code"][:200]
    done = await conn.execute(
        update(commands)
        .where(commands.c.nonce == a["nonce"])
        .where(commands.c.device_id == parsed.device_id)
        .where(commands.c.state.in_(("pending", "timeout")))
        .values(**values)
    )
    return done.rowcount > 0


async def _alarm(
    conn: AsyncConnection, event: dict, at: float, window_s: float, out: Written
) -> None:
    open_row = (
        await conn.execute(
            select(alarms.c.id, alarms.c.last_at)
            .where(alarms.c.device_id == event["device_id"])
            .where(alarms.c.kind == event["kind"])
            .where(alarms.c.state != "closed")
            .order_by(alarms.c.id.desc())
            .limit(1)
        )
    ).first()
    if open_row is not None and collapses(open_row.last_at, at, window_s):
        await conn.execute(
            update(alarms)
            .where(alarms.c.id == open_row.id)
            .values(
                count=alarms.c.count + 1,
                last_event_id=event["event_id"],
                last_ts=event["ts"],
                last_at=at,
                detail=json.dumps(event["detail"]),
            )
        )
        out.alarms_changed.append(open_row.id)
        return
    result = await conn.execute(
        alarms.insert().values(
            event_id=event["event_id"],
            last_event_id=event["event_id"],
            device_id=event["device_id"],
            kind=event["kind"],
            ts=event["ts"],
            last_ts=event["ts"],
            last_at=at,
            count=1,
            detail=json.dumps(event["detail"]),
            state="open",
        )
    )
    out.alarms_new.append(result.inserted_primary_key[0])
