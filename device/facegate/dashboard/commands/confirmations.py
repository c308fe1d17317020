"""The confirmation step, enforced on the server: a plan is sent only when the same user
posts back its one-time token within two minutes (a second click in another tab, a
replayed form or another user's token does nothing)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from facegate.dashboard.commands.args import Plan

TTL_S = 120.0


@dataclass(frozen=True)
class Pending:
    user_id: int
    plans: tuple[Plan, ...]
    expires: float


class Confirmations:
    def __init__(self, max_open: int = 1000) -> None:
        self._open: dict[str, Pending] = {}
        self._max = max_open

    def ask(self, user_id: int, plans: list[Plan], now: float) -> str:
        self._open = {t: p for t, p in self._open.items() if p.expires > now}
        if len(self._open) >= self._max:
            self._open.pop(next(iter(self._open)))
        token = secrets.token_urlsafe(24)
        self._open[token] = Pending(user_id, tuple(plans), now + TTL_S)
        return token

    def take(self, token: str, user_id: int, now: float) -> tuple[Plan, ...] | None:
        pending = self._open.get(token)
        if pending is None or pending.user_id != user_id or pending.expires <= now:
            return None
        del self._open[token]
        return pending.plans
