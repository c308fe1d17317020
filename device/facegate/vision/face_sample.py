"""One tracked face in one frame, as plain data: what perception hands liveness and recognition.

From a camera, a file or a test; EAR and head pose are computed once, however many checks
read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from facegate.vision.detection import Box
from facegate.vision.ear import eyes_aspect_ratio
from facegate.vision.head_pose import HeadPose, head_pose


@dataclass(frozen=True)
class FaceSample:
    """The tracked face in one frame: time in seconds, dlib's 68 points and the face box.

    ``frame_size`` (width, height) sets the camera model for head pose; without it the
    camera is centred on the face, which gives the same pitch changes. ``track_id`` names the
    person the tracker follows (a new id when another face, or an abrupt change of the face,
    is seen); ``faces_in_view`` is how many faces the last whole-frame scan found.
    """

    t: float
    landmarks: np.ndarray
    box: Box
    frame_size: tuple[int, int] | None = None
    track_id: int = 0
    faces_in_view: int = 1
    # Against the previous frame of the track (the tracker's continuity measures).
    scale_step: float = 1.0
    correlation: float = 1.0

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
