"""Choosing the open-set threshold for a target false-accept rate. Pure functions on arrays.

A door's false accept is per *probe*: a stranger is let in when the nearest of all enrolled
students is close enough, so the chance grows with the number of students (docs/recognition.md,
"FAR grows with the gallery"). Calibration therefore lets every enrolled student play the
stranger against the whole rest of the gallery, exactly as the matcher decides: the
stranger's score is the distance to the nearest *other* student, who must also clear the
margin over the second-nearest. The genuine scores are leave-one-out: each template against
the centroid of its student's other templates, with every other student as competitor.

All of it comes from one (templates x students) product of the gallery with its own centroids,
so calibrating 2,000 students x 5 templates takes seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facegate.identity.matcher import group_sums, unit_rows

# Genuine and stranger scores of a rejected decision (margin not met): never accepted.
_REFUSED = np.inf


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    target_far: float
    margin: float
    far: float
    frr: float | None
    n_impostor: int
    n_genuine: int
    # True when there are fewer than 1/target_far stranger probes, so the target cannot be
    # measured and the threshold sits just below the closest stranger.
    limited_by_sample: bool


@dataclass(frozen=True)
class OpenSetScores:
    """Per-probe scores as the matcher sees them: a probe is accepted at threshold t when its
    score <= t (the margin is already applied: a probe that fails it scores +inf)."""

    impostor: np.ndarray
    genuine: np.ndarray


def _gallery(labels: Sequence[str], embeddings: np.ndarray):  # type: ignore[no-untyped-def]
    emb = unit_rows(np.asarray(embeddings, dtype=np.float64)).astype(np.float64)
    names, owner = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    sums = group_sums(owner, emb, len(names))
    counts = np.bincount(owner, minlength=len(names))
    return emb, owner, sums, counts


def open_set_scores(labels: Sequence[str], embeddings: np.ndarray, margin: float) -> OpenSetScores:
    """Stranger and genuine scores of a gallery against itself (see the module's docstring)."""
    emb, owner, sums, counts = _gallery(labels, embeddings)
    if len(counts) < 2:
        return OpenSetScores(np.zeros(0), np.zeros(0))
    d = 1.0 - emb @ unit_rows(sums).astype(np.float64).T  # (templates, students)
    rows = np.arange(len(emb))
    # Strangers: the template's own student is not enrolled.
    others = d.copy()
    others[rows, owner] = np.inf
    # With two students the second column is the template's own (inf): no competitor.
    part = np.partition(others, 1, axis=1)
    d1, d2 = part[:, 0], part[:, 1]
    impostor = np.where(d2 - d1 >= margin, d1, _REFUSED)
    # Genuine, leave-one-out: the student's centroid without this template.
    alone = counts[owner] < 2
    loo = sums[owner] - emb
    own = 1.0 - np.einsum("ij,ij->i", unit_rows(loo).astype(np.float64), emb)
    genuine = np.where((own <= d1 - margin) & ~alone, own, _REFUSED)
    return OpenSetScores(impostor, genuine[~alone])


def threshold_for_far(impostor: np.ndarray, target_far: float) -> tuple[float, bool]:
    """The largest threshold accepting at most ``target_far`` of ``impostor`` scores."""
    if not 0.0 <= target_far < 1.0:
        raise ValueError("target FAR must be in [0, 1)")
    scores = np.sort(np.asarray(impostor, dtype=np.float64))
    if scores.size == 0:
        raise ValueError("no impostor scores: at least two people are needed")
    allowed = int(np.floor(target_far * scores.size))
    limited = scores.size * target_far < 1.0
    if not np.isfinite(scores[allowed]):
        return 2.0 - 1e-9, limited  # every stranger is refused by the margin
    # Accept "distance <= t": stay strictly below the (allowed+1)-th smallest impostor.
    return float(np.nextafter(scores[allowed], -np.inf)), limited


def choose_threshold(
    labels: Sequence[str], embeddings: np.ndarray, target_far: float, margin: float = 0.0
) -> ThresholdChoice:
    scores = open_set_scores(labels, embeddings, margin)
    threshold, limited = threshold_for_far(scores.impostor, target_far)
    threshold = min(threshold, 2.0 - 1e-9)
    far = float(np.mean(scores.impostor <= threshold))
    frr = float(np.mean(~(scores.genuine <= threshold))) if scores.genuine.size else None
    return ThresholdChoice(
        threshold,
        target_far,
        margin,
        far,
        frr,
        int(scores.impostor.size),
        int(scores.genuine.size),
        limited,
    )
