"""What liveness is fed: one face per frame, as plain data, from a camera, a file or a test."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from facegate.liveness.ear import eyes_aspect_ratio
from facegate.liveness.shape import inter_ocular, similarity_residual
from facegate.vision.detection import Box
from facegate.vision.head_pose import HeadPose, head_pose

# Jaw, brows and nose: they do not move when the eyes close.
STABLE_POINTS = np.r_[0:36]


@dataclass(frozen=True)
class FaceSample:
    """The tracked face in one frame: time in seconds, dlib's 68 points and the face box.

    ``frame_size`` (width, height) sets the camera model for head pose; without it the
    camera is centred on the face, which gives the same pitch changes.
    """

    t: float
    landmarks: np.ndarray
    box: Box
    frame_size: tuple[int, int] | None = None

    @cached_property
    def eyes(self) -> tuple[float, float]:
        """(right, left) EAR, computed once however many checks read it."""
        return eyes_aspect_ratio(self.landmarks)

    @cached_property
    def pose(self) -> HeadPose:
        if self.frame_size is None:
            cx, cy = self.box.center
            width, height = round(2 * cx), round(2 * cy)
        else:
            width, height = self.frame_size
        return head_pose(self.landmarks, max(width, 1), max(height, 1))


@dataclass(frozen=True)
class EyeFrame:
    """What the blink detector needs from one frame.

    ``jump`` is how far jaw, brows and nose moved non-rigidly since the previous frame, as a
    share of the eye distance: near 0.01 for a tracked face, large when the landmarks were lost.
    """

    t: float
    right: float
    left: float
    pitch: float = 0.0
    jump: float = 0.0
    yaw: float = 0.0

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
    return EyeFrame(sample.t, right, left, pose.pitch, jump, pose.yaw)
