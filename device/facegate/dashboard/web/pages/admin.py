"""Admin: users and roles, the doors and their keys, diagnostics (last message per topic,
outbox depth over time, messages that failed their schema)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facegate.dashboard.auth import users as accounts
from facegate.dashboard.auth.roles import ADMIN, ROLES
from facegate.dashboard.auth.sessions import revoke
from facegate.dashboard.store import queries
from facegate.dashboard.web.pages.common import page, rt_of
from facegate.dashboard.web.security import require, require_post
from facegate.dashboard.web.views import ago, depth_plot
from facegate.errors import FacegateError

PLOT_WINDOW_S = 6 * 3600


async def users_page(request: Request, error: str = "", status: int = 200) -> Response:
    user = await require(request, ADMIN)
    rows = await queries.user_rows(rt_of(request).engine)
    return page(request, "users.html", user, status, users=rows, roles=ROLES, error=error)


async def add_user(request: Request) -> Response:
    _, form = await require_post(request, ADMIN)
    try:
        await accounts.add_user(
            rt_of(request).engine,
            form.get("name", ""),
            form.get("role", ""),
            form.get("password", ""),
        )
    except FacegateError as exc:
        return await users_page(request, str(exc), 400)
    return RedirectResponse("/users", 303)


async def change_user(request: Request) -> Response:
    """Role, disabled, or a new password; any of them ends the user's sessions."""
    me, form = await require_post(request, ADMIN)
    engine = rt_of(request).engine
    name = request.path_params["name"]
    target = await queries.user_by_name(engine, name)
    if target is None:
        raise HTTPException(404, "no such user")
    role = form.get("role", target.role)
    disabled = form.get("disabled") == "on"
    if (
        target.role == ADMIN
        and (role != ADMIN or disabled)
        and await accounts.count_admins(engine) <= 1
    ):
        return await users_page(request, "the last admin cannot be demoted or disabled", 409)
    try:
        if form.get("password"):
            await accounts.set_password(engine, name, form["password"])
        await accounts.set_role(engine, name, role, disabled)
    except FacegateError as exc:
        return await users_page(request, str(exc), 400)
    if target.id == me.id:
        await revoke(engine, user_id=me.id)
    return RedirectResponse("/users", 303)


async def diagnostics(request: Request) -> Response:
    user = await require(request, ADMIN)
    rt = rt_of(request)
    now = rt.clock()
    topics = await queries.topics(rt.engine)
    counts, latest = await queries.bad_summary(rt.engine)
    series = await queries.depth_series(rt.engine, now - PLOT_WINDOW_S)
    sender = rt.sender
    doors = []
    for d in await queries.all_doors(rt.engine):
        path = sender.key_path(d.device_id) if sender else None
        doors.append(
            {
                "id": d.device_id,
                "key": bool(path and path.is_file()),
                "status": d.status or "unknown",
            }
        )
    return page(
        request,
        "diagnostics.html",
        user,
        topics=[
            {"topic": t.topic, "payload": t.payload[:300], "count": t.count, "ago": ago(now - t.at)}
            for t in topics
        ],
        bad_counts=counts,
        bad_latest=[
            {
                "topic": b.topic,
                "door": b.device_id or "",
                "problem": b.problem,
                "error": b.error,
                "excerpt": b.excerpt,
                "ago": ago(now - b.at),
            }
            for b in latest
        ],
        plot=depth_plot(series, now - PLOT_WINDOW_S, now),
        doors=doors,
        ingest={
            "connected": bool(rt.mqtt and rt.mqtt.connected.is_set()),
            "error": (rt.mqtt.last_error if rt.mqtt else "no broker configured") or "",
            "stored": rt.writer.stored if rt.writer else 0,
            "batches": rt.writer.batches if rt.writer else 0,
            "waiting": rt.writer.waiting if rt.writer else 0,
            "bad": rt.writer.bad if rt.writer else 0,
            "listeners": rt.hub.listeners,
        },
    )


routes = [
    Route("/users", users_page),
    Route("/users", add_user, methods=["POST"]),
    Route("/users/{name:str}", change_user, methods=["POST"]),
    Route("/diagnostics", diagnostics),
]
