"""The Starlette application: routes, static files, error pages, security headers."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from facegate.dashboard.web.pages import admin, alarms, attendance, commands, history, live, login
from facegate.dashboard.web.pages.common import page
from facegate.dashboard.web.pages.login import login_page
from facegate.dashboard.web.runtime import STATIC, Runtime
from facegate.dashboard.web.security import SecurityHeaders, current_user


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 401 and request.method == "GET" and request.url.path != "/stream":
        return login_page(request, 401)
    user = await current_user(request)
    return page(request, "error.html", user, exc.status_code, message=exc.detail)


def build_app(
    rt: Runtime | None, lifespan: Callable[[Starlette], AbstractAsyncContextManager] | None = None
) -> Starlette:
    routes = [
        *login.routes,
        *live.routes,
        *alarms.routes,
        *history.routes,
        *attendance.routes,
        *commands.routes,
        *admin.routes,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.rt = rt
    return app
