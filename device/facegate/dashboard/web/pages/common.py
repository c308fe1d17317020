"""Rendering a full page with the user, their CSRF token and the navigation they may use."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse

from facegate.dashboard.auth.roles import ADMIN, COMMAND, WATCH, allows
from facegate.dashboard.auth.sessions import CurrentUser
from facegate.dashboard.web.runtime import Runtime

NAV = [
    ("/", "Doors", WATCH),
    ("/alarms", "Alarms", WATCH),
    ("/history", "History", WATCH),
    ("/attendance", "Attendance", COMMAND),
    ("/commands", "Commands", COMMAND),
    ("/audit", "Audit", COMMAND),
    ("/users", "Users", ADMIN),
    ("/diagnostics", "Diagnostics", ADMIN),
]


def rt_of(request: Request) -> Runtime:
    return request.app.state.rt


def page(
    request: Request,
    template: str,
    user: CurrentUser | None,
    status: int = 200,
    **values,
) -> HTMLResponse:
    rt = rt_of(request)
    nav = [(href, label) for href, label, role in NAV if user and allows(user.role, role)]
    html = rt.env.get_template(template).render(
        user=user,
        csrf=user.csrf if user else "",
        nav=nav,
        path=request.url.path,
        can_command=bool(user and allows(user.role, COMMAND)),
        is_admin=bool(user and allows(user.role, ADMIN)),
        **values,
    )
    return HTMLResponse(html, status_code=status)
