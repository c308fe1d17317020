"""Choosing the open-set threshold for a target false-accept rate. Pure functions on arrays.

An impostor score is what an unknown person would get: the cosine distance from one face to
the centroid of a *different* person's templates (the score the matcher thresholds). The
threshold is set so that at most the target share of impostor scores fall at or below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facegate.identity.matcher import centroids, unit_rows


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    target_far: float
    far: float
    frr: float | None
    n_impostor: int
    n_genuine: int
    # True when there are fewer than 1/target_far impostor scores, so the target cannot be
    # measured and the threshold sits just below the closest impostor.
    limited_by_sample: bool


def impostor_scores(labels: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
    """For each face and each other person: distance to that person's centroid."""
    lab = np.asarray(labels, dtype=object)
    names, cents = centroids(labels, embeddings)
    if len(names) < 2:
        return np.zeros(0)
    d = 1.0 - unit_rows(embeddings) @ cents.T
    own = lab[:, np.newaxis] == np.asarray(names, dtype=object)[np.newaxis, :]
    return d[~own].astype(np.float64)


def genuine_scores(labels: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
    """Leave-one-out: each face's distance to the centroid of its person's other faces."""
    lab = np.asarray(labels, dtype=object)
    emb = unit_rows(embeddings)
    out = []
    for i, person in enumerate(lab):
        same = lab == person
        same[i] = False
        if same.any():
            out.append(1.0 - float(unit_rows(emb[same].mean(axis=0)) @ emb[i]))
    return np.asarray(out, dtype=np.float64)


def threshold_for_far(impostor: np.ndarray, target_far: float) -> tuple[float, bool]:
    """The largest threshold accepting at most ``target_far`` of ``impostor`` scores."""
    if not 0.0 <= target_far < 1.0:
        raise ValueError("target FAR must be in [0, 1)")
    scores = np.sort(np.asarray(impostor, dtype=np.float64))
    if scores.size == 0:
        raise ValueError("no impostor scores: at least two people are needed")
    allowed = int(np.floor(target_far * scores.size))
    limited = scores.size * target_far < 1.0
    # Accept "distance <= t": stay strictly below the (allowed+1)-th smallest impostor.
    return float(np.nextafter(scores[allowed], -np.inf)), limited


def choose_threshold(
    labels: Sequence[str], embeddings: np.ndarray, target_far: float
) -> ThresholdChoice:
    impostor = impostor_scores(labels, embeddings)
    genuine = genuine_scores(labels, embeddings)
    threshold, limited = threshold_for_far(impostor, target_far)
    far = float(np.mean(impostor <= threshold))
    frr = float(np.mean(genuine > threshold)) if genuine.size else None
    return ThresholdChoice(
        threshold, target_far, far, frr, int(impostor.size), int(genuine.size), limited
    )
