"""Floods of one kind of alarm collapse into a count: at most ``per_minute`` alarms, the rest
counted into the next one that is sent, or into a summary alarm once the flood stops.

A flapping reed contact or a stream of forged commands must not fill the outbox (and the
proctor's inbox) while the door's other events wait behind them.
"""

from __future__ import annotations

from collections import deque


class AlarmLimiter:
    def __init__(self, per_minute: int = 10) -> None:
        self.per_minute = per_minute
        self._times: deque[float] = deque()
        self.suppressed = 0

    def _expire(self, now: float) -> None:
        while self._times and now - self._times[0] > 60.0:
            self._times.popleft()

    def admit(self, now: float) -> int | None:
        """None when this alarm is over the limit (it is counted); else how many were
        suppressed before it (to report with it)."""
        self._expire(now)
        if len(self._times) >= self.per_minute:
            self.suppressed += 1
            return None
        self._times.append(now)
        earlier, self.suppressed = self.suppressed, 0
        return earlier

    def flood_over(self, now: float) -> int:
        """How many were suppressed, once a minute has passed without room for them (then 0)."""
        self._expire(now)
        if self.suppressed and not self._times:
            earlier, self.suppressed = self.suppressed, 0
            return earlier
        return 0
