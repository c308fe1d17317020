"""Attendance per exam session: import the doors' roster TOML, watch it live, export CSV."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facegate.dashboard.attendance.roster_store import (
    MAX_ROSTER_BYTES,
    import_roster,
    list_sessions,
    parse_roster_text,
    session_data,
)
from facegate.dashboard.attendance.sheet import attendance, attendance_csv, counts
from facegate.dashboard.auth.roles import COMMAND
from facegate.dashboard.web.pages.common import page, rt_of
from facegate.dashboard.web.security import require, require_post
from facegate.errors import FacegateError


async def sessions_page(request: Request, error: str = "", status: int = 200) -> Response:
    user = await require(request, COMMAND)
    rows = await list_sessions(rt_of(request).engine)
    return page(request, "attendance_list.html", user, status, sessions=rows, error=error)


async def import_page(request: Request) -> Response:
    user, fields = await require_post(request, COMMAND)
    form = await request.form()
    upload = form.get("file")
    text = fields.get("text", "")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_ROSTER_BYTES + 1)
        if len(raw) > MAX_ROSTER_BYTES:
            return await sessions_page(request, "the roster file is too large", 400)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return await sessions_page(request, "the roster file is not UTF-8 text", 400)
    if not text.strip():
        return await sessions_page(request, "choose a roster TOML file or paste one", 400)
    try:
        roster = parse_roster_text(text)
    except FacegateError as exc:
        return await sessions_page(request, str(exc), 400)
    await import_roster(rt_of(request).engine, roster, user.name)
    return RedirectResponse("/attendance", 303)


async def _sheet(request: Request):
    session_id = request.path_params["session_id"]
    session, expected, events = await session_data(rt_of(request).engine, session_id)
    if session is None:
        raise HTTPException(404, "no such session (import its roster first)")
    return session, attendance(expected, events)


async def session_page(request: Request) -> Response:
    user = await require(request, COMMAND)
    session, lines = await _sheet(request)
    return page(request, "attendance.html", user, s=session, lines=lines, counts=counts(lines))


async def session_csv(request: Request) -> Response:
    await require(request, COMMAND)
    session, lines = await _sheet(request)
    return Response(
        attendance_csv(lines),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="attendance-{session.session_id}.csv"'
        },
    )


routes = [
    Route("/attendance", sessions_page),
    Route("/attendance/import", import_page, methods=["POST"]),
    Route("/attendance/{session_id:str}.csv", session_csv),
    Route("/attendance/{session_id:str}", session_page),
]
