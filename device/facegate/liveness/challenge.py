"""The random blink challenge: "blink N times now", N drawn fresh for every attempt.

A replayed recording of the student blinking passes any plain blink check; it passes the
challenge only when it happens to show exactly N blinks inside the window that starts at the
prompt. Blinks before the prompt or after the window do not count, and the count is decided
``challenge_settle_s`` after the N-th blink (or at the window's end), so an extra blink fails.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from facegate.config.liveness import LivenessConfig
from facegate.liveness.blinks import Blink


@dataclass(frozen=True)
class Challenge:
    blinks: int
    start: float
    window_s: float
    settle_s: float

    @property
    def end(self) -> float:
        return self.start + self.window_s

    def counted(self, blinks: list[Blink]) -> list[Blink]:
        """The blinks that count: closed and reopened inside the window."""
        return [b for b in blinks if b.closed_start >= self.start and b.end <= self.end]

    def outcome(self, blinks: list[Blink], now: float) -> str | None:
        """ "passed", "too_many", "too_few", "none" (no blink at all) or None (still open)."""
        counted = [b for b in self.counted(blinks) if b.end <= now]
        if len(counted) > self.blinks:
            return "too_many"
        if len(counted) == self.blinks and now >= counted[-1].end + self.settle_s:
            return "passed"
        if now >= self.end:
            if len(counted) == self.blinks:
                return "passed"
            return "too_few" if counted else "none"
        return None

    def as_evidence(self) -> dict:
        return {"blinks": self.blinks, "start": round(self.start, 3), "window_s": self.window_s}


def draw_challenge(now: float, params: LivenessConfig) -> Challenge:
    """A fresh count from the operating system's randomness (not a seeded generator)."""
    span = params.challenge_max_blinks - params.challenge_min_blinks + 1
    count = params.challenge_min_blinks + secrets.randbelow(span)
    return Challenge(count, now, params.challenge_window_s, params.challenge_settle_s)


class ChallengePrompter(Protocol):
    """How the door asks for the blinks: LEDs, a buzzer, a text line; the daemon drives it."""

    def prompt(self, challenge: Challenge) -> None: ...

    def clear(self) -> None: ...


def prompt_text(challenge: Challenge) -> str:
    times = "once" if challenge.blinks == 1 else f"{challenge.blinks} times"
    return f"Blink {times} now"


def replay_blinks(blinks: list[Blink], challenge: Challenge) -> str:
    """The challenge's outcome for a recording whose blinks are known (the replay analysis)."""
    ends = [b.end + challenge.settle_s for b in challenge.counted(blinks)]
    outcome = None
    for now in [*sorted(ends), challenge.end]:
        outcome = challenge.outcome(blinks, now)
        if outcome is not None:
            break
    return outcome or "none"
