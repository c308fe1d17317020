"""Calibrating a gallery's open-set threshold on its own students, and storing the result.

``calibration.py`` chooses a threshold from arrays; this reads the templates from a gallery,
fills a :class:`Calibration` with the shipped rule's slope (so a smaller roster gets a raised
threshold) and stores it, which is what ``facegate gallery calibrate`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from facegate.errors import FacegateError
from facegate.identity.calibration import ThresholdChoice, choose_threshold
from facegate.identity.gallery import CALIBRATION_RULE, Calibration, Gallery
from facegate.identity.matcher import OpenSetRule
from facegate.identity.thresholds import shipped_rule


@dataclass(frozen=True)
class GalleryCalibration:
    """What was stored, with the shipped rule it replaces and the sample it came from."""

    choice: ThresholdChoice
    shipped: OpenSetRule
    students: int

    def to_dict(self) -> dict:
        c = self.choice
        return {
            "threshold": c.threshold,
            "shipped_threshold": self.shipped.threshold,
            "margin": c.margin,
            "target_far": c.target_far,
            "far": c.far,
            "frr": c.frr,
            "n_impostor": c.n_impostor,
            "n_genuine": c.n_genuine,
            "students": self.students,
            "limited_by_sample": c.limited_by_sample,
        }


def calibrate_gallery(
    gallery: Gallery, target_far: float, margin: float | None, configured_margin: float | None
) -> GalleryCalibration:
    """Choose and store the threshold for ``target_far``; the margin is ``margin``, else the
    config's, else the shipped one."""
    shipped = shipped_rule(gallery.embedder)
    if margin is None:
        margin = shipped.margin if configured_margin is None else configured_margin
    labels, vectors = gallery.templates()
    students = len(set(labels))
    if students < 2:
        raise FacegateError("calibration needs at least two enrolled students")
    choice = choose_threshold(labels, vectors, target_far, margin)
    gallery.set_calibration(
        Calibration(
            threshold=choice.threshold,
            target_far=target_far,
            n_impostor=choice.n_impostor,
            n_genuine=choice.n_genuine,
            expected_frr=choice.frr,
            calibrated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            margin=margin,
            rule=CALIBRATION_RULE,
            slope=shipped.slope,
            reference_size=max(students - 1, 1),
        )
    )
    return GalleryCalibration(choice, shipped, students)
