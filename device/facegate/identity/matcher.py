"""Closed-set SVM identification with open-set rejection by distance.

The SVM (as in the paper) names the most likely enrolled student; it always names someone,
so the decision to accept rests on the cosine distance from the probe to that student's
templates, summarised by their mean direction (the centroid): above the threshold the face is
``unknown_face``, whatever the SVM says. The centroid was measured to separate strangers
better than the nearest single template, whose minimum over many templates lets look-alikes
in (docs/recognition.md). Pure logic on arrays: no models, files or clocks.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

ACCEPTED = "match"
UNKNOWN = "unknown_face"
EMPTY = "empty_gallery"
NO_CANDIDATES = "no_candidates"


@dataclass(frozen=True)
class Match:
    """The outcome for one probe.

    ``candidate_id`` is the best enrolled student (before the threshold); ``student_id`` is
    set only when the probe is accepted as that student.
    """

    reason: str
    candidate_id: str | None
    distance: float
    threshold: float
    probability: float | None
    method: str

    @property
    def accepted(self) -> bool:
        return self.reason == ACCEPTED

    @property
    def student_id(self) -> str | None:
        return self.candidate_id if self.accepted else None


def unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        return x / max(float(np.linalg.norm(x)), 1e-12)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def centroids(labels: Sequence[str], embeddings: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each person's mean template direction, as (sorted names, unit rows)."""
    lab = np.asarray(labels, dtype=object)
    names = sorted(set(labels))
    emb = unit_rows(embeddings)
    if not names:
        return [], np.zeros((0, emb.shape[1] if emb.ndim == 2 else 0), np.float32)
    return names, unit_rows(np.vstack([emb[lab == n].mean(axis=0) for n in names]))


class Matcher:
    """Trained once per gallery (or roster) load; ``identify`` is cheap.

    The SVM is scikit-learn's linear SVM with sigmoid-calibrated probabilities
    (``CalibratedClassifierCV``; ``SVC(probability=True)`` is deprecated). It needs two
    students with at least two templates each; with fewer, the nearest centroid decides (and
    the distance threshold still applies).
    """

    def __init__(
        self,
        labels: Sequence[str],
        embeddings: np.ndarray,
        threshold: float,
        svm_c: float = 1.0,
        seed: int = 0,
    ) -> None:
        if len(labels) != len(embeddings):
            raise ValueError("labels and embeddings differ in length")
        self.threshold = float(threshold)
        self.classes, self._centroids = centroids(labels, embeddings)
        self._index = {c: i for i, c in enumerate(self.classes)}
        self._svm: CalibratedClassifierCV | None = None
        lab = np.asarray(labels, dtype=str)
        counts = [int(np.sum(lab == c)) for c in self.classes]
        if len(self.classes) >= 2 and min(counts) >= 2:
            # One-vs-rest (LinearSVC): calibrating SVC's one-vs-one votes cost 5-7 points of
            # accuracy on lfw10 and faces94 (docs/recognition.md).
            self._svm = CalibratedClassifierCV(
                LinearSVC(C=svm_c, max_iter=20000, random_state=seed),
                method="sigmoid",
                cv=StratifiedKFold(n_splits=min(5, min(counts)), shuffle=True, random_state=seed),
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                self._svm.fit(unit_rows(embeddings), lab)

    @property
    def method(self) -> str:
        return "svm" if self._svm is not None else "nearest"

    def distances(self, probe: np.ndarray) -> dict[str, float]:
        """Cosine distance from ``probe`` to each student's centroid (0 same, 2 opposite)."""
        d = 1.0 - self._centroids @ unit_rows(probe)
        return {c: float(d[i]) for i, c in enumerate(self.classes)}

    def identify(self, probe: np.ndarray, candidates: Collection[str] | None = None) -> Match:
        """Who is ``probe`` among the enrolled students (or only ``candidates``, e.g. a roster)?"""
        if not self.classes:
            return Match(EMPTY, None, float("inf"), self.threshold, None, self.method)
        wanted = None if candidates is None else set(candidates)
        allowed = [c for c in self.classes if wanted is None or c in wanted]
        if not allowed:
            return Match(NO_CANDIDATES, None, float("inf"), self.threshold, None, self.method)
        distances = self.distances(probe)
        probability = None
        if self._svm is not None:
            proba = self._svm.predict_proba(unit_rows(probe)[np.newaxis])[0]
            by_class = dict(zip(self._svm.classes_, proba, strict=True))
            best = max(allowed, key=lambda c: by_class[c])
            probability = float(by_class[best])
        else:
            best = min(allowed, key=lambda c: distances[c])
        distance = distances[best]
        reason = ACCEPTED if distance <= self.threshold else UNKNOWN
        return Match(reason, best, distance, self.threshold, probability, self.method)
