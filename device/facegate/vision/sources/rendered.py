"""Frames made on demand from their index and time: a finite source with no file behind it.

The demo's synthesised actor is rendered frame by frame because it answers a challenge drawn
at run time; photo-attack sequences are lists of frames. Timed ``t = index / fps`` like a file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from facegate.vision.sources.base import Frame


class RenderedSource:
    live = False

    def __init__(
        self,
        render: Callable[[int, float], np.ndarray],
        frames: int,
        fps: float,
        name: str,
    ) -> None:
        self._render = render
        self._last = frames
        self.fps = fps
        self.name = name
        self._index = 0

    @classmethod
    def of(cls, frames: Iterable[np.ndarray], fps: float, name: str) -> RenderedSource:
        kept = list(frames)
        return cls(lambda i, _t: kept[i], len(kept), fps, name)

    def finish_after(self, seconds: float) -> None:
        """End the stream this long after the frame last read (the person walks on)."""
        self._last = min(self._last, self._index + round(seconds * self.fps))

    def open(self) -> None:
        self._index = 0

    def read(self) -> Frame | None:
        if self._index >= self._last:
            return None
        t = self._index / self.fps
        frame = Frame(self._render(self._index, t), t, self._index)
        self._index += 1
        return frame

    def close(self) -> None:
        pass
