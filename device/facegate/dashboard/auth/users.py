"""User accounts: create, set a password or role, disable (the CLI and the admin page)."""

from __future__ import annotations

import re
import time

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from facegate.dashboard.auth.passwords import hash_password, password_problem
from facegate.dashboard.auth.roles import ROLES
from facegate.dashboard.auth.sessions import revoke
from facegate.dashboard.store.tables import users
from facegate.errors import FacegateError

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def check_user(name: str, role: str) -> None:
    if not USER_NAME.fullmatch(name):
        raise FacegateError("a user name is 1-64 of letters, digits and _ . @ -")
    if role not in ROLES:
        raise FacegateError(f"role must be one of {', '.join(ROLES)}")


async def add_user(engine: AsyncEngine, name: str, role: str, password: str) -> int:
    check_user(name, role)
    problem = password_problem(password)
    if problem:
        raise FacegateError(problem)
    hashed = await hash_password(password)
    async with engine.begin() as conn:
        exists = (await conn.execute(select(users.c.id).where(users.c.name == name))).first()
        if exists:
            raise FacegateError(f"user {name!r} exists (use set-password)")
        result = await conn.execute(
            users.insert().values(
                name=name, role=role, password_hash=hashed, disabled=False, created_at=time.time()
            )
        )
    return int(result.inserted_primary_key[0])


async def user_id(engine: AsyncEngine, name: str) -> int:
    async with engine.connect() as conn:
        row = (await conn.execute(select(users.c.id).where(users.c.name == name))).first()
    if row is None:
        raise FacegateError(f"no user {name!r}")
    return int(row.id)


async def set_password(engine: AsyncEngine, name: str, password: str) -> None:
    """A new password ends every session the user had."""
    problem = password_problem(password)
    if problem:
        raise FacegateError(problem)
    uid = await user_id(engine, name)
    hashed = await hash_password(password)
    async with engine.begin() as conn:
        await conn.execute(update(users).where(users.c.id == uid).values(password_hash=hashed))
    await revoke(engine, user_id=uid)


async def set_role(engine: AsyncEngine, name: str, role: str, disabled: bool) -> None:
    check_user(name, role)
    uid = await user_id(engine, name)
    async with engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == uid).values(role=role, disabled=disabled)
        )
    await revoke(engine, user_id=uid)


async def count_admins(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(users.c.id).where(users.c.role == "admin").where(users.c.disabled.is_(False))
        )
        return len(rows.all())
