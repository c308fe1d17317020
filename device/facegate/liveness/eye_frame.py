"""What the blink detector is fed: both eyes' EAR, head pitch and yaw, landmark jumps and the
face's size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facegate.vision.face_sample import FaceSample
from facegate.vision.shape import inter_ocular, similarity_residual

# Jaw, brows and nose: they do not move when the eyes close.
STABLE_POINTS = np.r_[0:36]


@dataclass(frozen=True)
class EyeFrame:
    """What the blink detector needs from one frame.

    ``jump`` is how far jaw, brows and nose moved non-rigidly since the previous frame, as a
    share of the eye distance: near 0.01 for a tracked face, large when the landmarks were lost.
    ``face_px`` is the face box's side in pixels (None: unknown, never judged too small).
    """

    t: float
    right: float
    left: float
    pitch: float = 0.0
    jump: float = 0.0
    yaw: float = 0.0
    face_px: float | None = None

    @property
    def mean(self) -> float:
        return (self.right + self.left) / 2.0


def eye_frame(sample: FaceSample, previous: FaceSample | None) -> EyeFrame:
    right, left = sample.eyes
    pose = sample.pose
    jump = 0.0
    if previous is not None:
        jump = similarity_residual(
            previous.landmarks[STABLE_POINTS], sample.landmarks[STABLE_POINTS]
        ) / max(inter_ocular(sample.landmarks), 1e-6)
    return EyeFrame(sample.t, right, left, pose.pitch, jump, pose.yaw, float(sample.box.w))
