"""Turning single key presses into one submitted code, with the clock passed in.

Keys come from a matrix or USB keypad and are untrusted: anything but ``0-9``, ``*`` and ``#``
gets an error result and leaves the entry as it was. ``*`` clears, ``#`` submits. A code is
only ever submitted by ``#``, never automatically when ``max_digits`` digits are typed: the
student can see what was typed (as dots) and fix it with ``*`` before a guess is spent, and a
stray ``#`` after an automatic submit would otherwise count as a second (empty) attempt. A
digit past ``max_digits`` means the student lost track, so the entry is discarded rather than
submitting the first digits. The digits are never logged and never appear in a ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DIGITS = frozenset("0123456789")
CLEAR = "*"
SUBMIT = "#"


@dataclass(frozen=True)
class EntryResult:
    """A submitted code (``code``) or a reason the key was refused (``error``)."""

    code: str | None = field(default=None, repr=False)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.code is not None


class KeyEntry:
    """Collects digits until ``#``; a pause over ``key_timeout_s`` drops a partial entry."""

    def __init__(self, max_digits: int = 6, min_digits: int = 6, key_timeout_s: float = 10.0):
        if not 1 <= min_digits <= max_digits:
            raise ValueError("need 1 <= min_digits <= max_digits")
        if key_timeout_s <= 0:
            raise ValueError("key_timeout_s must be positive")
        self.max_digits = max_digits
        self.min_digits = min_digits
        self.key_timeout_s = key_timeout_s
        self._digits: list[str] = []
        self._last_t: float | None = None

    def __repr__(self) -> str:
        return f"KeyEntry(typed={len(self._digits)}, max_digits={self.max_digits})"

    @property
    def typed(self) -> int:
        """How many digits are pending, for a display that shows one dot per digit."""
        return len(self._digits)

    def reset(self) -> None:
        self._digits.clear()
        self._last_t = None

    def expire(self, t: float) -> bool:
        """Drop a partial entry left longer than the key timeout; True if one was dropped."""
        if self._digits and self._last_t is not None and t - self._last_t > self.key_timeout_s:
            self.reset()
            return True
        return False

    def press(self, key: str, t: float) -> EntryResult | None:
        """One key at time ``t``: None while collecting, an :class:`EntryResult` otherwise."""
        if not isinstance(key, str) or (key not in DIGITS and key not in (CLEAR, SUBMIT)):
            return EntryResult(error="invalid key: only 0-9, * (clear) and # (enter) are accepted")
        self.expire(t)
        self._last_t = t
        if key == CLEAR:
            self._digits.clear()
            return None
        if key == SUBMIT:
            digits, n = "".join(self._digits), len(self._digits)
            self.reset()
            if n < self.min_digits:
                need = (
                    f"{self.min_digits}"
                    if self.min_digits == self.max_digits
                    else f"at least {self.min_digits}"
                )
                return EntryResult(error=f"code too short: {n} digits typed, {need} needed")
            return EntryResult(code=digits)
        if len(self._digits) >= self.max_digits:
            self.reset()
            return EntryResult(
                error=f"too many digits (at most {self.max_digits}); entry cleared, type it again"
            )
        self._digits.append(key)
        return None
