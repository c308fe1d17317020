"""Detector, landmarks and embedder wired together, as enrolment and the door use them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facegate.config import DetectionConfig, EmbedderConfig, Settings
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
    def load(
        cls,
        detection: DetectionConfig,
        embedder: EmbedderConfig,
        models_dir: Path | None = None,
        *,
        detector: str | None = None,
        embedder_name: str | None = None,
    ) -> FacePipeline:
        """Load every model the sections name (or the overrides); each file is verified."""
        mtcnn = MtcnnFaceDetector(detection.mtcnn_min_face_px, detection.mtcnn_thresholds)
        chosen = detector or detection.detector
        primary: FaceDetector = (
            mtcnn if chosen == "mtcnn" else HaarFaceDetector.from_config(detection)
        )
        emb = create_embedder(embedder_name or embedder.name, models_dir, embedder.threads)
        return cls(primary, emb, mtcnn, LandmarkPredictor())

    @classmethod
    def from_settings(
        cls, settings: Settings, detector: str | None = None, embedder: str | None = None
    ) -> FacePipeline:
        """:meth:`load` with the sections of ``settings`` (the CLI and tests)."""
        return cls.load(
            settings.detection,
            settings.embedder,
            settings.paths.models_dir,
            detector=detector,
            embedder_name=embedder,
        )

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
