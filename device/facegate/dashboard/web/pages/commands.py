"""Commands: choose, confirm (a one-time token checked on the server), follow the door's
answer live; the audit of every command; an override code shown once to its requester."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from facegate.dashboard.auth.roles import COMMAND
from facegate.dashboard.commands.args import BadCommand, plans
from facegate.dashboard.store import queries
from facegate.dashboard.web.live import command_update
from facegate.dashboard.web.pages.common import page, rt_of
from facegate.dashboard.web.security import require, require_post
from facegate.dashboard.web.views import command_view
from facegate.errors import FacegateError


async def _doors(request: Request) -> list[str]:
    return [d.device_id for d in await queries.all_doors(rt_of(request).engine)]


async def commands_page(request: Request, error: str = "", status: int = 200) -> Response:
    user = await require(request, COMMAND)
    rt = rt_of(request)
    rows = await queries.command_rows(rt.engine, limit=20)
    sender = rt.sender
    doors = await _doors(request)
    keys = {d: bool(sender and (p := sender.key_path(d)) and p.is_file()) for d in doors}
    return page(
        request,
        "commands.html",
        user,
        status,
        doors=doors,
        keys=keys,
        recent=[command_view(r) for r in rows],
        error=error,
        max_unlock=rt.settings.commands.max_unlock_s,
    )


async def plan(request: Request) -> Response:
    """Step one: check the request and show what would be sent; nothing is sent yet."""
    user, form = await require_post(request, COMMAND)
    rt = rt_of(request)
    try:
        chosen = plans(
            form.get("cmd", ""),
            form.get("device_id", ""),
            await _doors(request),
            form,
            rt.settings.commands.max_unlock_s,
        )
    except BadCommand as exc:
        return await commands_page(request, str(exc), 400)
    token = rt.confirmations.ask(user.id, chosen, rt.clock())
    return page(request, "confirm.html", user, plans=chosen, token=token)


async def confirm(request: Request) -> Response:
    """Step two: the same user posts the token back; now each command is signed and sent."""
    user, form = await require_post(request, COMMAND)
    rt = rt_of(request)
    chosen = rt.confirmations.take(form.get("token", ""), user.id, rt.clock())
    if chosen is None:
        raise HTTPException(409, "this confirmation expired or was used already")
    if rt.sender is None:
        raise HTTPException(503, "the dashboard runs without a broker connection")
    nonces, errors = [], []
    for p in chosen:
        try:
            nonces.append(await rt.sender.send(p, user.name))
        except FacegateError as exc:
            errors.append(str(exc))
    if errors and not nonces:
        return await commands_page(request, "; ".join(errors), 400)
    if len(nonces) == 1 and not errors:
        return RedirectResponse(f"/commands/{nonces[0]}", 303)
    return RedirectResponse("/audit", 303)


async def _command_or_404(request: Request):
    row = await queries.command(rt_of(request).engine, request.path_params["nonce"][:64])
    if row is None:
        raise HTTPException(404, "no such command")
    return row


async def command_page(request: Request) -> Response:
    user = await require(request, COMMAND)
    row = await _command_or_404(request)
    return page(request, "command.html", user, c=command_view(row), mine=row.operator == user.name)


async def command_status(request: Request) -> Response:
    """The answer line alone: a pending command's page asks for it every 2 s, so an answer
    that reached the server while the page was opening its live stream is never missed."""
    await require(request, COMMAND)
    row = await _command_or_404(request)
    html = rt_of(request).env.get_template("_command_status.html").render(c=command_view(row))
    return HTMLResponse(html, headers={"cache-control": "no-store"})


async def reveal(request: Request) -> Response:
    """The override code, once, to the operator who asked; never on the live stream."""
    user, _ = await require_post(request, COMMAND)
    row = await _command_or_404(request)
    rt = rt_of(request)
    assert rt.sender is not None
    try:
        code, student = await rt.sender.reveal(row.nonce, user.name)
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from None
    except LookupError as exc:
        raise HTTPException(409, str(exc)) from None
    for u in await command_update(rt, row.nonce):
        rt.hub.publish(u)
    fresh = await queries.command(rt.engine, row.nonce)
    return page(
        request,
        "command.html",
        user,
        c=command_view(fresh),
        mine=True,
        code=code,
        student=student,
    )


async def audit(request: Request) -> Response:
    user = await require(request, COMMAND)
    rows = await queries.command_rows(rt_of(request).engine, limit=500)
    return page(request, "audit.html", user, commands=[command_view(r) for r in rows])


routes = [
    Route("/commands", commands_page),
    Route("/commands", plan, methods=["POST"]),
    Route("/commands/confirm", confirm, methods=["POST"]),
    Route("/commands/{nonce:str}", command_page),
    Route("/commands/{nonce:str}/status", command_status),
    Route("/commands/{nonce:str}/reveal", reveal, methods=["POST"]),
    Route("/audit", audit),
]
