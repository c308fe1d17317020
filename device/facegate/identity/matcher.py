"""Open-set 1:N identification: the nearest student's centroid, a threshold and a margin.

Each student is summarised by the mean direction of their templates (the centroid). A probe
is accepted as the nearest student over the *whole* gallery only if

- its cosine distance to that centroid is at or below the threshold, which is lower the more
  students may be accepted (:class:`OpenSetRule`), and
- the second-nearest student is at least ``margin`` further away (a probe halfway between
  two students is not confidently either), and
- when the search is limited to some candidates (the session's roster), the nearest student
  overall is one of them: a probe nearer to an enrolled student off the roster is that
  student, not the roster's best look-alike (docs/recognition.md, "The whole-gallery check").

The SVM the paper uses was dropped: the nearest centroid was as accurate on celeba278, and
the SVM's calibrated training grew with the square of the students (docs/recognition.md).
Building a matcher is linear in the number of templates, and a built matcher never changes,
so a new one can be built in a worker thread while the old one keeps answering. Pure logic on
arrays: no models, files or clocks.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

ACCEPTED = "match"
UNKNOWN = "unknown_face"
EMPTY = "empty_gallery"
# Kept for events written before: no enrolled candidate now reads as the face's own reason.
NO_CANDIDATES = "no_candidates"
# The probe is accepted as an enrolled student who is not among the candidates.
NOT_A_CANDIDATE = "not_a_candidate"


# Below this many candidates the threshold stops growing (it was measured from 10 up).
MIN_SIZE = 10


@dataclass(frozen=True)
class OpenSetRule:
    """The decision's parameters (cosine distances).

    Accept when the distance is at or below the threshold for the number of students who may
    be accepted (the candidates: the session's roster, else the whole gallery) and the gap to
    the second-nearest student is at least ``margin``. The more candidates, the more chances
    a stranger has to be near one of them, so the threshold falls by ``slope`` for every
    e-fold of candidates: ``threshold`` holds at ``reference_size`` candidates, and it never
    exceeds ``max_threshold`` (for small galleries). A slope of 0 is one fixed threshold.
    """

    threshold: float
    margin: float = 0.0
    slope: float = 0.0
    reference_size: int = 1
    max_threshold: float = 1.99

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 2.0:
            raise ValueError(f"threshold {self.threshold} is not a cosine distance in (0, 2)")
        if not 0.0 <= self.margin < 2.0:
            raise ValueError(f"margin {self.margin} is not a cosine distance in [0, 2)")
        if not 0.0 <= self.slope < 1.0 or self.reference_size < 1:
            raise ValueError("the slope must be in [0, 1) and the reference size >= 1")
        if not 0.0 < self.max_threshold < 2.0:
            raise ValueError(f"max_threshold {self.max_threshold} is not in (0, 2)")

    def threshold_for(self, candidates: int) -> float:
        """The threshold when ``candidates`` students may be accepted (never below 0.01)."""
        if self.slope == 0.0:
            return self.threshold
        n = max(candidates, MIN_SIZE)
        t = self.threshold - self.slope * math.log(n / self.reference_size)
        return min(max(t, 0.01), self.max_threshold)


@dataclass(frozen=True)
class Match:
    """The outcome for one probe.

    ``candidate_id`` is the nearest student among the candidates (everyone when there is no
    roster) and ``distance`` its distance; ``nearest_id`` is the nearest student of the whole
    gallery and ``margin`` the gap from it to the second-nearest. ``student_id`` is set only
    when the probe is accepted as a candidate.
    """

    reason: str
    candidate_id: str | None
    distance: float
    threshold: float
    nearest_id: str | None = None
    nearest_distance: float | None = None
    margin: float | None = None
    min_margin: float = 0.0

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
    """Each person's mean template direction, as (sorted names, unit rows).

    One pass over the templates (a sort of the labels and a sum per group), so the cost grows
    with the number of templates, not with templates x students.
    """
    emb = unit_rows(embeddings)
    if len(labels) == 0:
        return [], np.zeros((0, emb.shape[1] if emb.ndim == 2 else 0), np.float32)
    names, owner = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    return [str(n) for n in names], unit_rows(group_sums(owner, emb, len(names)))


def group_sums(owner: np.ndarray, rows: np.ndarray, groups: int) -> np.ndarray:
    """Sum of ``rows`` per group (``owner[i]`` is row i's group), in float64.

    Students with the same number of templates are summed together as one (students, k, dim)
    block, so the work is a few vectorised passes over the templates (``np.add.at`` and
    ``np.add.reduceat`` along rows were 5-10x slower on 10,000 templates).
    """
    owner = np.asarray(owner)
    counts = np.bincount(owner, minlength=groups)
    out = np.zeros((groups, rows.shape[1]), np.float64)
    order = np.argsort(owner, kind="stable")
    sorted_owner, sorted_rows = owner[order], rows[order]
    per_row = counts[sorted_owner]
    for k in np.unique(counts[counts > 0]):
        block = per_row == k
        students = sorted_owner[block][::k]
        out[students] = sorted_rows[block].reshape(len(students), k, -1).sum(1, dtype=np.float64)
    return out


class Matcher:
    """The gallery's centroids and the open-set rule; immutable once built."""

    def __init__(self, labels: Sequence[str], embeddings: np.ndarray, rule: OpenSetRule) -> None:
        embeddings = np.asarray(embeddings)
        if len(labels) != len(embeddings):
            raise ValueError("labels and embeddings differ in length")
        if len(labels) and not np.all(np.isfinite(embeddings)):
            raise ValueError("embeddings must be finite")
        self.rule = rule
        names, cents = centroids(labels, embeddings)
        self.classes: tuple[str, ...] = tuple(names)
        cents.setflags(write=False)
        self._centroids = cents
        self._index = {c: i for i, c in enumerate(self.classes)}

    @property
    def threshold(self) -> float:
        """The threshold for a search of the whole gallery."""
        return self.rule.threshold_for(len(self.classes))

    @property
    def method(self) -> str:
        return "centroid" if self.rule.margin == 0 else "centroid+margin"

    def __len__(self) -> int:
        return len(self.classes)

    def distances(self, probe: np.ndarray) -> dict[str, float]:
        """Cosine distance from ``probe`` to each student's centroid (0 same, 2 opposite)."""
        d = self._distances(probe)
        return {c: float(d[i]) for i, c in enumerate(self.classes)}

    def _distances(self, probe: np.ndarray) -> np.ndarray:
        probe = np.asarray(probe, dtype=np.float32).reshape(-1)
        if probe.shape[0] != self._centroids.shape[1] or not np.all(np.isfinite(probe)):
            raise ValueError(
                f"probe must be a finite {self._centroids.shape[1]}-D vector, "
                f"got shape {probe.shape}"
            )
        # einsum, not BLAS: one small product needs no thread pool, and BLAS threads waiting
        # for a busy CPU made the 95th percentile of a search 3x worse on a loaded machine.
        return 1.0 - np.einsum("ij,j->i", self._centroids, unit_rows(probe))

    def identify(self, probe: np.ndarray, candidates: Collection[str] | None = None) -> Match:
        """Who is ``probe`` among the enrolled students (or only ``candidates``, e.g. a roster)?

        The whole gallery is searched either way: the candidates only say who may be accepted.
        """
        m = self.rule.margin
        t = self.rule.threshold_for(len(self.classes))
        if not self.classes:
            return Match(EMPTY, None, float("inf"), t, min_margin=m)
        allowed = None
        if candidates is not None:
            allowed = np.array([self._index[c] for c in set(candidates) if c in self._index], int)
            if allowed.size:
                t = self.rule.threshold_for(int(allowed.size))
        d = self._distances(probe)
        if d.size > 1:
            first, second = np.argpartition(d, 1)[:2]
            if d[second] < d[first]:
                first, second = second, first
            gap = float(d[second] - d[first])
        else:
            first, gap = 0, 2.0
        nearest = self.classes[int(first)]
        if allowed is not None and allowed.size == 0:
            # No candidate is enrolled: the face may still be a student of another exam.
            named = d[first] <= t and gap >= m
            reason = NOT_A_CANDIDATE if named else UNKNOWN
            return Match(reason, None, float("inf"), t, nearest, float(d[first]), gap, m)
        best = int(first) if allowed is None else int(allowed[np.argmin(d[allowed])])
        candidate, distance = self.classes[best], float(d[best])
        if d[first] > t or gap < m:
            reason = UNKNOWN
        elif best != first:
            reason = NOT_A_CANDIDATE
        else:
            reason = ACCEPTED
        return Match(reason, candidate, distance, t, nearest, float(d[first]), gap, m)
