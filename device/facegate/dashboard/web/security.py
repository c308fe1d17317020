"""Security headers on every response, and the checks every handler starts with.

Nothing the browser decides is trusted: the role is looked up from the server-side session
on each request, state-changing requests need the session's CSRF token and a same-origin
``Origin`` when the browser sends one, and the page may run only this server's scripts.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facegate.dashboard.auth.roles import allows
from facegate.dashboard.auth.sessions import COOKIE, CurrentUser, csrf_ok, session_user

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; media-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # not no-referrer: Chrome then sends "Origin: null" on our own form posts
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


MAX_BODY = 4 * 1024 * 1024  # a roster upload is the largest thing anyone posts


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY:
            await send({"type": "http.response.start", "status": 413, "headers": HEADERS})
            await send({"type": "http.response.body", "body": b"request too large"})
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += HEADERS
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


async def current_user(request: Request) -> CurrentUser | None:
    rt = request.app.state.rt
    return await session_user(rt.engine, request.cookies.get(COOKIE), rt.clock())


async def require(request: Request, role: str) -> CurrentUser:
    """The signed-in user with at least ``role``: 401 without a session, 403 without rights."""
    user = await current_user(request)
    if user is None:
        raise HTTPException(401, "sign in first")
    if not allows(user.role, role):
        raise HTTPException(403, f"this needs the {role} role; you are {user.role}")
    return user


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # not sent by every browser on a same-origin form post
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


async def require_post(request: Request, role: str) -> tuple[CurrentUser, dict[str, str]]:
    """A state-changing request: session, CSRF token (form field or header), role, origin.

    The CSRF token is checked before the role so a forged request learns nothing; both fail
    with 403 and change nothing.
    """
    user = await current_user(request)
    if user is None:
        raise HTTPException(401, "sign in first")
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    token = fields.get("csrf") or request.headers.get("x-csrf-token")
    if not csrf_ok(user.csrf, token):
        raise HTTPException(403, "missing or wrong CSRF token")
    if not same_origin(request):
        raise HTTPException(403, "cross-origin request refused")
    if not allows(user.role, role):
        raise HTTPException(403, f"this needs the {role} role; you are {user.role}")
    return user, fields


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
