"""Server-side sessions: the cookie holds a random token, the table holds its sha256.

A session can be revoked (logout, an admin disabling a user or resetting a password) and is
gone on the next request; a stolen database does not hand out live cookies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from facegate.dashboard.store.tables import sessions, users

COOKIE = "fg_session"


@dataclass(frozen=True)
class CurrentUser:
    id: int
    name: str
    role: str
    csrf: str
    token_hash: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_session(
    engine: AsyncEngine, user_id: int, now: float, hours: float, address: str | None
) -> str:
    token = secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await conn.execute(
            sessions.insert().values(
                token_hash=_digest(token),
                user_id=user_id,
                csrf=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + hours * 3600,
                revoked=False,
                address=(address or "")[:64],
            )
        )
    return token


async def session_user(engine: AsyncEngine, token: str | None, now: float) -> CurrentUser | None:
    if not token or len(token) > 100:
        return None
    digest = _digest(token)
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(users.c.id, users.c.name, users.c.role, sessions.c.csrf)
                .join(users, users.c.id == sessions.c.user_id)
                .where(sessions.c.token_hash == digest)
                .where(sessions.c.revoked.is_(False))
                .where(sessions.c.expires_at > now)
                .where(users.c.disabled.is_(False))
            )
        ).first()
    if row is None:
        return None
    return CurrentUser(row.id, row.name, row.role, row.csrf, digest)


async def revoke(engine: AsyncEngine, *, token_hash: str | None = None, user_id: int | None = None):
    stmt = update(sessions).values(revoked=True)
    if token_hash is not None:
        stmt = stmt.where(sessions.c.token_hash == token_hash)
    elif user_id is not None:
        stmt = stmt.where(sessions.c.user_id == user_id)
    else:
        raise ValueError("revoke needs a token or a user")
    async with engine.begin() as conn:
        await conn.execute(stmt)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
