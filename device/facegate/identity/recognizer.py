"""The gallery loaded for matching, with the open-set rule that applies and where it came from.

A :class:`Recognizer` never changes once built: a reload builds a new one (safe in a worker
thread: it reads the gallery and builds the matcher, in time linear in the templates, and
loads no model) while the old one keeps serving ``identify``; the door then swaps the
reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facegate.config import Settings
from facegate.identity.gallery import Gallery
from facegate.identity.matcher import Match, Matcher, OpenSetRule
from facegate.identity.thresholds import shipped_rule
from facegate.vision.detection import Detection
from facegate.vision.pipeline import FacePipeline


def effective_rule(settings: Settings, gallery: Gallery) -> tuple[OpenSetRule, str]:
    """The config's threshold/margin, else this gallery's calibration, else the shipped rule."""
    shipped = shipped_rule(gallery.embedder)
    calibration = gallery.calibration()
    rule, source = shipped, f"shipped for {gallery.embedder}"
    if calibration is not None and calibration.current:
        rule = OpenSetRule(
            calibration.threshold,
            calibration.margin,
            calibration.slope,
            calibration.reference_size,
            max(shipped.max_threshold, calibration.threshold),
        )
        source = f"gallery calibration (FAR {calibration.target_far:g})"
    elif calibration is not None:
        source += " (the stored calibration predates per-probe FAR: run gallery calibrate)"
    m = settings.matcher
    if m.threshold is not None:
        # A fixed threshold, whatever the number of students.
        rule = OpenSetRule(m.threshold, rule.margin)
        source = "config matcher.threshold"
    if m.margin is not None:
        rule = OpenSetRule(
            rule.threshold, m.margin, rule.slope, rule.reference_size, rule.max_threshold
        )
        source += ", config matcher.margin"
    return rule, source


def load_matcher(gallery: Gallery, settings: Settings) -> Matcher:
    """Every template of the gallery (decrypted and checked) in a new matcher."""
    rule, _ = effective_rule(settings, gallery)
    labels, vectors = gallery.templates()
    return Matcher(labels, vectors, rule)


@dataclass(frozen=True)
class FaceResult:
    detection: Detection
    match: Match | None  # None when the face could not be embedded (MTCNN did not confirm it)


class Recognizer:
    """Matches faces in images against the gallery; build a new one after enrolment changes."""

    def __init__(self, pipeline: FacePipeline, gallery: Gallery, settings: Settings) -> None:
        self.pipeline = pipeline
        self.threshold_source = effective_rule(settings, gallery)[1]
        self.matcher = load_matcher(gallery, settings)

    @property
    def threshold(self) -> float:
        return self.matcher.threshold

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
