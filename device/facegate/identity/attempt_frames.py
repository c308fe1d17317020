"""Which frames of an attempt recognition embeds, and which must agree with them.

* The *best* frames: the few where the face is largest, frontal and open-eyed (a frame taken
  mid-blink or with the head turned costs recognition accuracy), kept while liveness runs.
* The *witness* frames, which bind the attempt to one person: for each blink liveness counts,
  the best frame within ``window_s`` of it (the face that blinked), and the frames where the
  tracker saw the face change abruptly in size or look (a photo held up over a face). The
  recognition worker embeds them too and refuses the attempt unless all show the same person.

Frames are kept by reference (a frame is never written to after capture), so keeping them
costs no copy; a short history of recent frames lets a blink reported at the reopening of the
eyes find the frames just before it.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from facegate.vision.detection import Box
from facegate.vision.face_sample import FaceSample


@dataclass(order=True)
class CandidateFrame:
    score: float
    t: float = field(compare=False)
    image: np.ndarray = field(compare=False, repr=False)
    box: Box = field(compare=False)
    seq: int = field(default=0, compare=False)  # unique per frame: the worker's cache key


def frame_score(sample: FaceSample) -> float:
    """Larger, more frontal and more open-eyed is better; a 120 px face scores about 1."""
    right, left = sample.eyes
    pose = sample.pose
    size = min(sample.box.h, 240.0) / 120.0
    turned = abs(pose.yaw) / 30.0 + abs(pose.pitch) / 30.0
    return size * min(right, left) / 0.3 - turned


@dataclass(frozen=True)
class ChangeLimits:
    """A frame-to-frame change larger than these makes a frame a witness (measured limits)."""

    max_scale_step: float = 1.2
    min_correlation: float = 0.6


class AttemptFrames:
    def __init__(
        self,
        keep: int = 3,
        window_s: float = 0.5,
        max_changes: int = 2,
        limits: ChangeLimits | None = None,
    ) -> None:
        self.keep = keep
        self.window_s = window_s
        self.max_changes = max_changes
        self.limits = limits or ChangeLimits()
        self._seq = itertools.count(1)
        self.reset()

    def reset(self, track_id: int | None = None) -> None:
        self.track_id = track_id
        self._best: list[CandidateFrame] = []
        self._recent: deque[CandidateFrame] = deque()
        self._witnesses: list[CandidateFrame] = []
        self._changes: list[tuple[float, CandidateFrame]] = []

    def offer(self, sample: FaceSample, image: np.ndarray) -> None:
        """Every frame of the tracked face while the attempt looks at it (the sample carries
        the tracker's comparison with the previous frame: size step and correlation)."""
        if sample.track_id != self.track_id:
            self.reset(sample.track_id)
        frame = CandidateFrame(frame_score(sample), sample.t, image, sample.box, next(self._seq))
        if len(self._best) < self.keep:
            heapq.heappush(self._best, frame)
        elif frame.score > self._best[0].score:
            heapq.heapreplace(self._best, frame)
        self._recent.append(frame)
        while self._recent and sample.t - self._recent[0].t > 3 * self.window_s:
            self._recent.popleft()
        step = max(sample.scale_step, 1.0 / max(sample.scale_step, 1e-6))
        if step > self.limits.max_scale_step or sample.correlation < self.limits.min_correlation:
            self._changes.append((sample.correlation, frame))
            self._changes.sort(key=lambda c: c[0])
            del self._changes[self.max_changes :]

    def blink(self, start: float, end: float) -> CandidateFrame | None:
        """A blink from ``start`` to ``end``: its witness, the best frame around it (or None
        when no frame of it was kept)."""
        near = [f for f in self._recent if start - self.window_s <= f.t <= end + self.window_s]
        if not near:
            return None
        witness = max(near, key=lambda f: f.score)
        if all(w.seq != witness.seq for w in self._witnesses):
            self._witnesses.append(witness)
        return witness

    def best(self) -> list[CandidateFrame]:
        return sorted(self._best, reverse=True)

    def witnesses(self) -> list[CandidateFrame]:
        """The blink witnesses and the change frames, each once."""
        seen = {w.seq for w in self._witnesses}
        changes = [f for _, f in self._changes if f.seq not in seen]
        return [*self._witnesses, *changes]
