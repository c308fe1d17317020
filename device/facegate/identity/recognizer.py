"""The gallery loaded for matching, with the threshold that applies and where it came from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facegate.config import Settings
from facegate.identity.gallery import Gallery
from facegate.identity.matcher import Match, Matcher
from facegate.identity.thresholds import shipped_threshold
from facegate.vision.detection import Detection
from facegate.vision.pipeline import FacePipeline


def effective_threshold(settings: Settings, gallery: Gallery) -> tuple[float, str]:
    """The config's threshold, else this gallery's calibration, else the shipped one."""
    if settings.matcher.threshold is not None:
        return settings.matcher.threshold, "config matcher.threshold"
    calibration = gallery.calibration()
    if calibration is not None:
        return calibration.threshold, f"gallery calibration (FAR {calibration.target_far:g})"
    return shipped_threshold(gallery.embedder), f"shipped for {gallery.embedder}"


@dataclass(frozen=True)
class FaceResult:
    detection: Detection
    match: Match | None  # None when the face could not be embedded (MTCNN did not confirm it)


class Recognizer:
    """Matches faces in images against the gallery; build a new one after enrolment changes."""

    def __init__(self, pipeline: FacePipeline, gallery: Gallery, settings: Settings) -> None:
        self.pipeline = pipeline
        self.threshold, self.threshold_source = effective_threshold(settings, gallery)
        labels, vectors = gallery.templates()
        self.matcher = Matcher(labels, vectors, self.threshold, settings.matcher.svm_c)

    def identify(self, probe: np.ndarray, candidates: list[str] | None = None) -> Match:
        return self.matcher.identify(probe, candidates)

    def identify_image(
        self, image_bgr: np.ndarray, candidates: list[str] | None = None
    ) -> list[FaceResult]:
        results = []
        for detection in self.pipeline.detect(image_bgr):
            embedding = self.pipeline.embed(image_bgr, detection)
            match = None if embedding is None else self.matcher.identify(embedding, candidates)
            results.append(FaceResult(detection, match))
        return results
