"""The per-frame step: a camera frame in, the tracked face out, the same everywhere.

The door, the benchmarks and the liveness evaluation all run exactly this step (grey copy,
tracker with Haar near the face and dlib's 68 points, one :class:`FaceSample`), built from the
same ``[detection]`` section, so a figure measured by the tools is the figure of the door.
"""

from __future__ import annotations

import cv2
import numpy as np

from facegate.config.detection import DetectionConfig
from facegate.vision.face_sample import FaceSample
from facegate.vision.haar import HaarFaceDetector
from facegate.vision.landmarks import LandmarkPredictor
from facegate.vision.tracker import FaceTracker


class Perception:
    def __init__(self, tracker: FaceTracker) -> None:
        self.tracker = tracker

    @classmethod
    def from_config(
        cls, detection: DetectionConfig, landmarks: LandmarkPredictor | None = None
    ) -> Perception:
        haar = HaarFaceDetector.from_config(detection)
        return cls(FaceTracker(haar, landmarks or LandmarkPredictor(), detection.rescan_s))

    def reset(self) -> None:
        self.tracker.reset()

    def step(self, image: np.ndarray, t: float) -> FaceSample | None:
        """The face tracked in ``image`` (BGR or grey) at time ``t`` seconds, or None."""
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        tracked = self.tracker.update(grey, t)
        if tracked is None:
            return None
        height, width = grey.shape[:2]
        return FaceSample(
            t,
            tracked.landmarks,
            tracked.box,
            (width, height),
            tracked.track_id,
            tracked.faces_in_view,
            tracked.scale_step,
            tracked.correlation,
        )
