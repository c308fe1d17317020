"""Turn what the ingest committed into page fragments, rendered once and sent to every page.

Only new rows are sent: a redelivered event was dropped by the database, so it never shows
twice. Door cards are sent whole (htmx swaps the card), events as rows to prepend, alarms as
rows plus a toast, commands as their status line.
"""

from __future__ import annotations

from datetime import UTC, datetime

from facegate.dashboard.alarms.rules import TITLES, snoozed
from facegate.dashboard.attendance.roster_store import list_sessions, session_data
from facegate.dashboard.attendance.sheet import attendance, counts
from facegate.dashboard.auth.roles import COMMAND
from facegate.dashboard.store import queries
from facegate.dashboard.store.ingest_writes import Written
from facegate.dashboard.web.hub import Update
from facegate.dashboard.web.runtime import Runtime
from facegate.dashboard.web.views import alarm_view, command_view, door_view, event_view


async def open_sessions_by_room(rt: Runtime) -> dict[str, str]:
    now = datetime.now(UTC)
    out = {}
    for s in await list_sessions(rt.engine):
        if datetime.fromisoformat(s.start) <= now < datetime.fromisoformat(s.end):
            out[s.room] = s.session_id
    return out


async def door_cards(rt: Runtime, only: set[str] | None = None) -> list[dict]:
    rooms = await open_sessions_by_room(rt)
    now = rt.clock()
    stale = rt.settings.offline_after_s
    return [
        door_view(row, now, stale, rooms)
        for row in await queries.all_doors(rt.engine)
        if only is None or row.device_id in only
    ]


def render(rt: Runtime, template: str, **values) -> str:
    return rt.env.get_template(template).render(**values)


async def door_updates(rt: Runtime, only: set[str] | None = None) -> list[Update]:
    return [
        Update(f"door-{card['id']}", render(rt, "_door_card.html", d=card))
        for card in await door_cards(rt, only)
    ]


async def alarm_update(rt: Runtime, alarm_id: int, new: bool) -> list[Update]:
    row = await queries.alarm(rt.engine, alarm_id)
    if row is None:
        return []
    door = await queries.door(rt.engine, row.device_id)
    acks = (await queries.acks_for(rt.engine, [alarm_id])).get(alarm_id, [])
    view = alarm_view(row, acks, door, rt.clock())
    html = render(rt, "_alarm_row.html", a=view)
    out = [Update(f"alarm-{alarm_id}", html)]
    if new:
        out.append(Update("alarm", html))
        if not (door is not None and snoozed(door.snoozed_until, rt.clock())):
            toast = render(rt, "_toast.html", a=view, title=TITLES.get(row.kind, row.kind))
            out.append(Update("toast", toast))
    return out


async def command_update(rt: Runtime, nonce: str) -> list[Update]:
    row = await queries.command(rt.engine, nonce)
    if row is None:
        return []
    html = render(rt, "_command_status.html", c=command_view(row))
    return [Update(f"cmd-{nonce}", html, role=COMMAND)]


async def attendance_update(rt: Runtime, session_id: str) -> list[Update]:
    session, expected, events = await session_data(rt.engine, session_id)
    if session is None:
        return []
    lines = attendance(expected, events)
    html = render(rt, "_attendance_table.html", lines=lines, counts=counts(lines))
    return [Update(f"attendance-{session_id}", html, role=COMMAND)]


async def publish_written(rt: Runtime, written: Written) -> None:
    if not rt.hub.listeners:
        return
    updates: list[Update] = []
    for event in sorted(written.new_events, key=lambda e: e["event_id"]):
        if event["type"] == "access":
            row = render(rt, "_event_row.html", e=event_view(event))
            updates.append(Update("access", row, id=event["event_id"]))
    if written.doors:
        if rt.announced is None:
            rt.announced = {d.device_id for d in await queries.all_doors(rt.engine)} - written.doors
        for update in await door_updates(rt, written.doors):
            updates.append(update)
            device_id = update.event.removeprefix("door-")
            if device_id not in rt.announced:
                rt.announced.add(device_id)
                updates.append(Update("door-new", update.html))
    for alarm_id in written.alarms_new:
        updates += await alarm_update(rt, alarm_id, new=True)
    for alarm_id in written.alarms_changed:
        updates += await alarm_update(rt, alarm_id, new=False)
    for nonce in written.answers:
        updates += await command_update(rt, nonce)
    for session_id in written.sessions:
        updates += await attendance_update(rt, session_id)
    for update in updates:
        rt.hub.publish(update)
