"""The alarms inbox: acknowledge with a note, close (a forced door only once LOCKED),
snooze a door's toasts."""

from __future__ import annotations

from sqlalchemy import update
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facegate.dashboard.alarms.rules import close_refusal
from facegate.dashboard.auth.roles import WATCH
from facegate.dashboard.store import queries
from facegate.dashboard.store.tables import alarm_acks, alarms, doors
from facegate.dashboard.web.live import alarm_update, door_updates
from facegate.dashboard.web.pages.common import page, rt_of
from facegate.dashboard.web.security import require, require_post
from facegate.dashboard.web.views import alarm_view

MAX_NOTE = 500


async def inbox(request: Request) -> Response:
    user = await require(request, WATCH)
    rt = rt_of(request)
    closed = request.query_params.get("closed") == "1"
    rows = await queries.alarm_rows(rt.engine, include_closed=closed)
    acks = await queries.acks_for(rt.engine, [r.id for r in rows])
    door_rows = {d.device_id: d for d in await queries.all_doors(rt.engine)}
    now = rt.clock()
    views = [alarm_view(r, acks.get(r.id, []), door_rows.get(r.device_id), now) for r in rows]
    return page(
        request,
        "alarms.html",
        user,
        alarms=views,
        doors=sorted(door_rows),
        closed=closed,
        snooze_max=rt.settings.alarms.snooze_max_min,
    )


async def _alarm_or_404(request: Request):
    try:
        alarm_id = int(request.path_params["alarm_id"])
    except ValueError:
        raise HTTPException(404, "no such alarm") from None
    row = await queries.alarm(rt_of(request).engine, alarm_id)
    if row is None:
        raise HTTPException(404, "no such alarm")
    return row


async def _publish(request: Request, alarm_id: int) -> None:
    rt = rt_of(request)
    for u in await alarm_update(rt, alarm_id, new=False):
        rt.hub.publish(u)


async def acknowledge(request: Request) -> Response:
    user, form = await require_post(request, WATCH)
    row = await _alarm_or_404(request)
    note = form.get("note", "").strip()
    if not note:
        raise HTTPException(400, "an acknowledgement needs a note (what was done)")
    rt = rt_of(request)
    async with rt.engine.begin() as conn:
        await conn.execute(
            alarm_acks.insert().values(
                alarm_id=row.id, user_name=user.name, note=note[:MAX_NOTE], at=rt.clock()
            )
        )
        if row.state == "open":
            await conn.execute(update(alarms).where(alarms.c.id == row.id).values(state="acked"))
    await _publish(request, row.id)
    return RedirectResponse("/alarms", 303)


async def close(request: Request) -> Response:
    user, _ = await require_post(request, WATCH)
    row = await _alarm_or_404(request)
    rt = rt_of(request)
    door = await queries.door(rt.engine, row.device_id)
    refusal = close_refusal(
        row.kind, door.state if door else None, door is not None and door.status == "online"
    )
    if refusal:
        raise HTTPException(409, f"cannot close this alarm yet: {refusal}")
    if row.state == "open":
        raise HTTPException(409, "acknowledge the alarm with a note before closing it")
    async with rt.engine.begin() as conn:
        await conn.execute(
            update(alarms)
            .where(alarms.c.id == row.id)
            .values(state="closed", closed_by=user.name, closed_at=rt.clock())
        )
    await _publish(request, row.id)
    return RedirectResponse("/alarms", 303)


async def snooze(request: Request) -> Response:
    user, form = await require_post(request, WATCH)
    rt = rt_of(request)
    device_id = form.get("door", "")
    if await queries.door(rt.engine, device_id) is None:
        raise HTTPException(404, "no such door")
    try:
        minutes = int(form.get("minutes", "0"))
    except ValueError:
        raise HTTPException(400, "minutes must be a whole number") from None
    if not 0 <= minutes <= rt.settings.alarms.snooze_max_min:
        raise HTTPException(400, f"snooze from 0 to {rt.settings.alarms.snooze_max_min} minutes")
    until = rt.clock() + minutes * 60 if minutes else None
    async with rt.engine.begin() as conn:
        await conn.execute(
            update(doors)
            .where(doors.c.device_id == device_id)
            .values(snoozed_until=until, snoozed_by=user.name if minutes else None)
        )
    for u in await door_updates(rt, {device_id}):
        rt.hub.publish(u)
    return RedirectResponse("/alarms", 303)


routes = [
    Route("/alarms", inbox),
    Route("/alarms/{alarm_id}/ack", acknowledge, methods=["POST"]),
    Route("/alarms/{alarm_id}/close", close, methods=["POST"]),
    Route("/alarms/snooze", snooze, methods=["POST"]),
]
