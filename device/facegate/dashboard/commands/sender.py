"""Sign and publish commands (after the role check and the confirmation), time them out,
open an override's sealed code once for the operator who asked."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from facegate.common.key_files import read_key_file
from facegate.dashboard.commands.args import Plan
from facegate.dashboard.store.tables import commands
from facegate.errors import FacegateError
from facegate.mqtt.commands import open_reply, sign_command

log = logging.getLogger("facegate.dashboard.commands")


class CommandSender:
    def __init__(
        self,
        engine: AsyncEngine,
        publish: Callable[[str, bytes], object],
        key_dir: Path | None,
        timeout_s: float,
        root: str,
        clock: Callable[[], float],
        on_change: Callable[[str], Awaitable[None]],
    ) -> None:
        self.engine = engine
        self._publish = publish
        self._key_dir = key_dir
        self._timeout = timeout_s
        self._root = root
        self._clock = clock
        self._on_change = on_change
        self._timers: set[asyncio.Task] = set()

    def key_path(self, device_id: str) -> Path | None:
        """``<key_dir>/<door>.key``, or ``door_<door>.key`` as systemd names the files of a
        folder loaded with ``LoadCredential=door:/etc/facegate-dashboard/doors``."""
        if self._key_dir is None:
            return None
        plain = self._key_dir / f"{device_id}.key"
        credential = self._key_dir / f"door_{device_id}.key"
        return credential if not plain.exists() and credential.exists() else plain

    def key(self, device_id: str) -> bytes:
        path = self.key_path(device_id)
        if path is None:
            raise FacegateError("commands.key_dir is not set: no door can be commanded")
        try:
            return read_key_file(path)
        except FacegateError as exc:
            raise FacegateError(f"no usable command key for {device_id}: {exc}") from None

    async def send(self, plan: Plan, operator: str) -> str:
        """Record the command as pending, sign it with the operator's name, publish it."""
        key = self.key(plan.device_id)
        nonce = secrets.token_hex(16)
        now = self._clock()
        async with self.engine.begin() as conn:
            await conn.execute(
                commands.insert().values(
                    nonce=nonce,
                    device_id=plan.device_id,
                    cmd=plan.cmd,
                    args=json.dumps(plan.args),
                    operator=operator,
                    created_at=now,
                    state="pending",
                    code_shown=False,
                )
            )
        payload = sign_command(
            key, plan.device_id, plan.cmd, plan.args, ts=int(now), nonce=nonce, operator=operator
        )
        self._publish(f"{self._root}/{plan.device_id}/cmd/{plan.cmd}", payload)
        log.info("%s sent %s to %s (nonce %s)", operator, plan.cmd, plan.device_id, nonce[:8])
        task = asyncio.get_running_loop().create_task(self._expire(nonce))
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)
        return nonce

    async def _expire(self, nonce: str) -> None:
        await asyncio.sleep(self._timeout)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(commands)
                .where(commands.c.nonce == nonce)
                .where(commands.c.state == "pending")
                .values(state="timeout", detail=f"no answer within {self._timeout:g} s")
            )
        if result.rowcount:
            await self._on_change(nonce)

    async def reveal(self, nonce: str, operator: str) -> tuple[str, str]:
        """The override code, once, for the operator who asked; the sealed copy is dropped."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(select(commands).where(commands.c.nonce == nonce))).first()
            if row is None or row.cmd != "override":
                raise LookupError("no such override")
            if row.operator != operator:
                raise PermissionError("only the operator who asked may see this code")
            if row.code_shown or not row.sealed_code:
                raise LookupError("the code was already shown, or the door has not answered")
            code = open_reply(self.key(row.device_id), nonce, row.sealed_code)
            await conn.execute(
                update(commands)
                .where(commands.c.nonce == nonce)
                .values(code_shown=True, sealed_code=None)
            )
        return code, json.loads(row.args)["student_id"]
