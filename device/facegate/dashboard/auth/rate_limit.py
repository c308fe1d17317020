"""Failed logins per user name and per client address within a sliding window (pure).

Past the limit a login is refused before the password is even checked, so guessing costs
the attacker the window, not the server an argon2 hash per guess. An address gets four times
a name's allowance: a school behind one NAT address must not be locked out by one guesser.
"""

from __future__ import annotations

from collections import deque


class LoginLimiter:
    def __init__(self, failures: int, window_s: float, max_keys: int = 10_000) -> None:
        self._limit = failures
        self._address_limit = failures * 4
        self._window = window_s
        self._max_keys = max_keys
        self._fails: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._fails.get(key)
        if times is None:
            return deque()
        while times and now - times[0] > self._window:
            times.popleft()
        if not times:
            del self._fails[key]
        return times

    def blocked(self, keys: list[str], now: float) -> float:
        """Seconds until a login may be tried again for any of ``keys`` (0: allowed now)."""
        wait = 0.0
        for key in keys:
            times = self._recent(key, now)
            limit = self._address_limit if key.startswith("addr:") else self._limit
            if len(times) >= limit:
                wait = max(wait, self._window - (now - times[0]))
        return wait

    def failed(self, keys: list[str], now: float) -> None:
        if len(self._fails) >= self._max_keys:  # a spray of names: forget the oldest
            oldest = min(self._fails, key=lambda k: self._fails[k][-1] if self._fails[k] else 0)
            del self._fails[oldest]
        for key in keys:
            self._fails.setdefault(key, deque()).append(now)

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            if key.startswith("user:"):
                self._fails.pop(key, None)
