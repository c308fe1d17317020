"""Exponential back-off for reopening a lost device: initial, doubling, capped."""

from __future__ import annotations


class Backoff:
    def __init__(self, initial_s: float, max_s: float) -> None:
        if not 0 < initial_s <= max_s:
            raise ValueError("need 0 < initial_s <= max_s")
        self.initial_s, self.max_s = initial_s, max_s
        self._next = initial_s

    def reset(self) -> None:
        self._next = self.initial_s

    def next(self) -> float:
        """The wait before the next try (then doubled, up to ``max_s``)."""
        wait = self._next
        self._next = min(self._next * 2, self.max_s)
        return wait
