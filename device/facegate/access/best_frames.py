"""Which frames of an attempt to embed: the few where the face is largest, frontal and open-eyed.

The embedding runs once per attempt, after liveness, on frames of the same track kept while
liveness ran. A frame taken mid-blink or with the head turned costs recognition accuracy, so
each frame gets a score and only the best ``keep`` are held (copies, released with the attempt).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from facegate.liveness.samples import FaceSample
from facegate.vision.detection import Box


@dataclass(order=True)
class CandidateFrame:
    score: float
    t: float = field(compare=False)
    image: np.ndarray = field(compare=False, repr=False)
    box: Box = field(compare=False)


def frame_score(sample: FaceSample) -> float:
    """Larger, more frontal and more open-eyed is better; a 120 px face scores about 1."""
    right, left = sample.eyes
    pose = sample.pose
    size = min(sample.box.h, 240.0) / 120.0
    turned = abs(pose.yaw) / 30.0 + abs(pose.pitch) / 30.0
    return size * min(right, left) / 0.3 - turned


class BestFrames:
    def __init__(self, keep: int = 3) -> None:
        self.keep = keep
        self._heap: list[CandidateFrame] = []
        self.track_id: int | None = None

    def reset(self, track_id: int | None = None) -> None:
        self._heap = []
        self.track_id = track_id

    def offer(self, sample: FaceSample, image: np.ndarray, track_id: int) -> None:
        """``sample`` is the one liveness gets too: its EAR and pose are computed once."""
        if track_id != self.track_id:
            self.reset(track_id)
        score = frame_score(sample)
        if len(self._heap) < self.keep:
            heapq.heappush(self._heap, CandidateFrame(score, sample.t, image.copy(), sample.box))
        elif score > self._heap[0].score:
            heapq.heapreplace(self._heap, CandidateFrame(score, sample.t, image.copy(), sample.box))

    def best(self) -> list[CandidateFrame]:
        return sorted(self._heap, reverse=True)
