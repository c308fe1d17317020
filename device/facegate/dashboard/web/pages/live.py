"""The doors and the live events (one page), an event's detail, and the live stream."""

from __future__ import annotations

import asyncio
import json

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from facegate.dashboard.auth.roles import COMMAND, WATCH, allows
from facegate.dashboard.auth.sessions import COOKIE, session_user
from facegate.dashboard.store import queries
from facegate.dashboard.web.hub import Update, sse_frame
from facegate.dashboard.web.live import command_update, door_cards, door_updates, render
from facegate.dashboard.web.pages.common import page, rt_of
from facegate.dashboard.web.security import require
from facegate.dashboard.web.views import event_view

HEARTBEAT_S = 15.0
EVENT_ID_CHARS = frozenset("0123456789abcdef")


async def index(request: Request) -> Response:
    user = await require(request, WATCH)
    rt = rt_of(request)
    events = await queries.recent_access(rt.engine, rt.settings.live_events)
    return page(
        request,
        "index.html",
        user,
        doors=await door_cards(rt),
        events=[event_view(e) for e in events],
        live_limit=rt.settings.live_events,
        stream_after=events[0]["event_id"] if events else "0" * 28,
    )


async def event_detail(request: Request) -> Response:
    user = await require(request, WATCH)
    event_id = request.path_params["event_id"]
    event = await queries.event(rt_of(request).engine, event_id)
    if event is None:
        raise HTTPException(404, "no such event")
    return page(
        request,
        "event.html",
        user,
        e=event_view(event),
        raw=json.dumps(event, indent=2, sort_keys=True),
    )


async def stream(request: Request) -> Response:
    """Server-sent events: the doors' state at once, then every change as it is committed."""
    user = await require(request, WATCH)
    rt = rt_of(request)
    # a reconnect says where it was; a fresh page says what it rendered (?after=)
    last = request.headers.get("last-event-id") or request.query_params.get("after", "")
    resume = last if len(last) == 28 and set(last) <= EVENT_ID_CHARS else None
    queue = rt.hub.subscribe()
    token = request.cookies.get(COOKIE)

    async def frames():
        try:
            yield "retry: 2000\n\n"
            for update in await door_updates(rt):
                yield sse_frame(update)
            if allows(user.role, COMMAND):  # answers that came while the page was loading
                for row in await queries.command_rows(rt.engine, 50, since=rt.clock() - 600):
                    for update in await command_update(rt, row.nonce):
                        yield sse_frame(update)
            if resume is not None:
                missed = await queries.recent_access(rt.engine, rt.settings.live_events, resume)
                for e in reversed(missed):
                    html = render(rt, "_event_row.html", e=event_view(e))
                    yield sse_frame(Update("access", html, id=e["event_id"]))
            while True:
                try:
                    update = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    if await session_user(rt.engine, token, rt.clock()) is None:
                        return  # signed out or revoked: the stream ends with the session
                    yield ": ping\n\n"
                    continue
                if update is None:
                    return
                if allows(user.role, update.role):
                    yield sse_frame(update)
        finally:
            rt.hub.unsubscribe(queue)

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


routes = [
    Route("/", index),
    Route("/events/{event_id:str}", event_detail),
    Route("/stream", stream),
]
