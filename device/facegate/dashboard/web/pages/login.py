"""Sign in and out. The login form carries a one-time token in a cookie and a field (login
CSRF), wrong passwords are counted per name and per address, and argon2 runs off the loop."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facegate.dashboard.auth.passwords import verify_password
from facegate.dashboard.auth.sessions import COOKIE, create_session, csrf_ok, revoke
from facegate.dashboard.store.tables import users
from facegate.dashboard.web.pages.common import page, rt_of
from facegate.dashboard.web.security import client_address, current_user

LOGIN_COOKIE = "fg_login"


def secure(request: Request) -> bool:
    mode = rt_of(request).settings.server.secure_cookies
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def login_page(request: Request, status: int = 200, error: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, status, error=error, login_token=token)
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=600, httponly=True, samesite="strict", secure=secure(request)
    )
    return response


async def get_login(request: Request) -> Response:
    if await current_user(request) is not None:
        return RedirectResponse("/", 303)
    return login_page(request)


async def post_login(request: Request) -> Response:
    rt = rt_of(request)
    form = await request.form()
    name = str(form.get("name", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    if not csrf_ok(request.cookies.get(LOGIN_COOKIE, ""), str(form.get("login_token", ""))):
        return login_page(request, 403, "The form expired: please sign in again.")
    keys = [f"user:{name.lower()}", f"addr:{client_address(request)}"]
    now = rt.clock()
    wait = rt.limiter.blocked(keys, now)
    if wait > 0:
        return login_page(request, 429, f"Too many failed sign-ins: try again in {wait:.0f} s.")
    async with rt.engine.connect() as conn:
        row = (
            await conn.execute(
                select(users.c.id, users.c.password_hash, users.c.disabled).where(
                    users.c.name == name
                )
            )
        ).first()
    stored = row.password_hash if row is not None and not row.disabled else None
    if not await verify_password(stored, password):
        rt.limiter.failed(keys, now)
        return login_page(request, 401, "Wrong name or password.")
    rt.limiter.succeeded(keys)
    token = await create_session(
        rt.engine, row.id, now, rt.settings.auth.session_hours, client_address(request)
    )
    response = RedirectResponse("/", 303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(rt.settings.auth.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


async def post_logout(request: Request) -> Response:
    user = await current_user(request)
    form = await request.form()
    if user is not None and csrf_ok(user.csrf, str(form.get("csrf", ""))):
        await revoke(rt_of(request).engine, token_hash=user.token_hash)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE)
    return response


routes = [
    Route("/login", get_login, methods=["GET"]),
    Route("/login", post_login, methods=["POST"]),
    Route("/logout", post_logout, methods=["POST"]),
]
