"""Detector, landmarks and embedder wired together, as enrolment and the door use them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facegate.config import Settings
from facegate.vision.detection import Detection, FaceDetector
from facegate.vision.embedders import Embedder, create_embedder
from facegate.vision.haar import HaarFaceDetector
from facegate.vision.landmarks import LandmarkPredictor
from facegate.vision.mtcnn import MtcnnFaceDetector


@dataclass
class FacePipeline:
    """The loaded models. ``mtcnn`` is also used to refine boxes of other detectors when the
    embedder's crop is defined on MTCNN's box."""

    detector: FaceDetector
    embedder: Embedder
    mtcnn: MtcnnFaceDetector
    landmarks: LandmarkPredictor

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        detector: str | None = None,
        embedder: str | None = None,
    ) -> FacePipeline:
        """Load every model named by ``settings`` (or the overrides); each file is verified."""
        d = settings.detection
        mtcnn = MtcnnFaceDetector(d.mtcnn_min_face_px, d.mtcnn_thresholds)
        chosen = detector or d.detector
        primary: FaceDetector = (
            mtcnn
            if chosen == "mtcnn"
            else HaarFaceDetector(
                d.haar_width, d.haar_min_neighbors, d.haar_min_face_px, d.haar_scale_factor
            )
        )
        emb = create_embedder(
            embedder or settings.embedder.name,
            settings.paths.models_dir,
            settings.embedder.threads,
        )
        return cls(primary, emb, mtcnn, LandmarkPredictor())

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        return self.detector.detect(image_bgr)

    def for_embedding(self, image_bgr: np.ndarray, detection: Detection) -> Detection | None:
        """The detection the embedder's crop needs; None when MTCNN cannot confirm the face."""
        if not self.embedder.needs_mtcnn_box or detection.source == self.mtcnn.name:
            return detection
        return self.mtcnn.refine(image_bgr, detection.box)

    def embed(self, image_bgr: np.ndarray, detection: Detection) -> np.ndarray | None:
        face = self.for_embedding(image_bgr, detection)
        return None if face is None else self.embedder.embed(image_bgr, face)

    def predict_landmarks(self, image_bgr: np.ndarray, detection: Detection) -> np.ndarray:
        return self.landmarks.predict(image_bgr, detection.box)
