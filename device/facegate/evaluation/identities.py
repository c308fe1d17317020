"""``facegate eval identities``: the paper's 80/20 protocol plus open-set figures.

Closed set: each person's photos are split 80/20 (seeded), the 80% are enrolled and every test
photo is named by the nearest centroid (the paper's Table 1). The split is rotated five times
by default so that every photo is a test photo once (``rotations=1`` is the paper's one split).

Open set: a door must also reject people it has never seen, so people are left out of the
gallery in turn (5 folds over people) and all their photos are shown as unknown probes;
unknown-probe folders (``_*``) are probes against the full gallery. With the shipped rule,
FAR = unknown probes accepted as anyone, FRR = enrolled people's test photos rejected.

Because strangers come closer to *someone* the more people are enrolled, the same figures are
also given for smaller galleries drawn from the set (:mod:`facegate.evaluation.gallery_sizes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report
from tqdm import tqdm

from facegate.evaluation.dataset import IdentityDataset
from facegate.identity.matcher import ACCEPTED, Match, Matcher, OpenSetRule

OPEN_SET_FOLDS = 5
Probe = tuple[Path, np.ndarray]


@dataclass
class IdentityReport:
    dataset: str
    embedder: str
    threshold: float  # for a gallery of all the set's people
    margin: float
    slope: float
    seed: int
    rotations: int
    n_people: int
    n_images: int
    n_no_face: int
    n_train: int
    n_test: int
    closed_set_accuracy: float
    per_person: dict[str, dict[str, float]]
    macro_f1: float
    far: float
    frr: float
    misidentification_rate: float
    n_genuine_probes: int
    n_unknown_probes: int
    method: str
    sweep: dict[str, float | None] = field(default_factory=dict)
    closed_set_errors: list[dict[str, str]] = field(default_factory=list)
    no_face: list[str] = field(default_factory=list)
    by_gallery_size: dict[str, dict] = field(default_factory=dict)
    groups: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _parts(n: int, rotations: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Test index sets of one person's photos: one 80/20 split per rotation.

    With one rotation this is the paper's single seeded 80/20 split; with five, the 20% test
    parts are disjoint and every photo is tested exactly once.
    """
    order = rng.permutation(n)
    if rotations == 1:
        return [order[: max(1, round(0.2 * n))]]
    return [part for part in np.array_split(order, rotations) if part.size]


def open_set_score(m: Match) -> float:
    """The distance the threshold is compared with, or +inf when the margin refuses anyway."""
    if m.nearest_distance is None or m.margin is None or m.margin < m.min_margin:
        return float("inf")
    return m.nearest_distance


def sweep(genuine: np.ndarray, unknown: np.ndarray) -> dict[str, float | None]:
    """Reference points of this very set (never used for decisions): the equal-error rate, and
    the largest threshold with FAR <= 1% with its FRR, i.e. what calibrating on this set for a
    1% false-accept rate would give."""
    finite = np.concatenate([genuine[np.isfinite(genuine)], unknown[np.isfinite(unknown)]])
    cuts = np.unique(np.concatenate([finite, [0.0, 2.0]]))
    u, g = np.sort(unknown), np.sort(genuine)
    far = np.searchsorted(u, cuts, side="right") / max(u.size, 1)
    frr = 1.0 - np.searchsorted(g, cuts, side="right") / max(g.size, 1)
    i = int(np.argmin(np.abs(far - frr)))
    ok = np.flatnonzero(far <= 0.01)
    j = int(ok[-1]) if ok.size else None
    t_far = None
    if j is not None:
        # Just below the first threshold whose FAR exceeds 1%.
        t_far = float(np.nextafter(cuts[j + 1], -np.inf)) if j + 1 < cuts.size else float(cuts[j])
    return {
        "eer": float((far[i] + frr[i]) / 2),
        "eer_threshold": float(cuts[i]),
        "threshold_at_far_1pct": t_far,
        "frr_at_far_1pct": None if j is None else float(frr[j]),
    }


class Protocol:
    """The people of a set with a face in >= 2 photos, and their seeded 80/20 rotations."""

    def __init__(
        self,
        dataset: IdentityDataset,
        embeddings: dict[Path, np.ndarray | None],
        rotations: int,
        seed: int,
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.found: dict[str, list[Probe]] = {}
        self.parts: dict[str, list[np.ndarray]] = {}
        for person, paths in dataset.people.items():
            have = [(p, e) for p in paths if (e := embeddings.get(p)) is not None]
            if len(have) >= 2:
                self.found[person] = have
                self.parts[person] = _parts(len(have), rotations, self.rng)
        self.everyone = sorted(self.found)
        self.unknown: list[Probe] = [
            (p, e) for p in dataset.unknown if (e := embeddings.get(p)) is not None
        ]

    def split(self, person: str, r: int) -> tuple[list[np.ndarray], list[Probe]]:
        parts = self.parts[person]
        test_idx = set(parts[r % len(parts)].tolist())
        items = self.found[person]
        train = [e for i, (_, e) in enumerate(items) if i not in test_idx]
        return train, [items[i] for i in sorted(test_idx)]

    def gallery(self, people: Iterable[str], r: int, rule: OpenSetRule) -> Matcher:
        labels: list[str] = []
        vectors: list[np.ndarray] = []
        for person in people:
            train, _ = self.split(person, r)
            labels += [person] * len(train)
            vectors += train
        return Matcher(labels, np.vstack(vectors), rule)

    def stranger_folds(self) -> list[list[str]]:
        order = list(self.rng.permutation(self.everyone))
        return [order[i::OPEN_SET_FOLDS] for i in range(min(OPEN_SET_FOLDS, len(order)))]


def evaluate_identities(
    dataset: IdentityDataset,
    embeddings: dict[Path, np.ndarray | None],
    embedder: str,
    rule: OpenSetRule,
    seed: int = 0,
    rotations: int = 5,
    progress: bool = False,
) -> IdentityReport:
    proto = Protocol(dataset, embeddings, rotations, seed)
    no_face = [p for p in dataset.all_paths() if embeddings.get(p) is None]
    truth: list[str] = []
    predicted: list[str | None] = []
    errors: list[dict[str, str]] = []
    genuine_s: list[float] = []
    rejected = wrong = n_train = 0
    unknown_m: list[Match] = []
    bar = tqdm(
        total=rotations + OPEN_SET_FOLDS, desc="galleries", leave=False, disable=not progress
    )
    for r in range(rotations):
        full = proto.gallery(proto.everyone, r, rule)
        for person in proto.everyone:
            train, test = proto.split(person, r)
            n_train += len(train)
            for path, probe in test:
                m = full.identify(probe)
                truth.append(person)
                predicted.append(m.candidate_id)
                if m.candidate_id != person:
                    errors.append(
                        {"photo": str(path), "truth": person, "predicted": str(m.candidate_id)}
                    )
                genuine_s.append(open_set_score(m) if m.candidate_id == person else np.inf)
                if m.reason != ACCEPTED:
                    rejected += 1
                elif m.candidate_id != person:
                    wrong += 1
        if r == 0:
            unknown_m += [full.identify(e) for _, e in proto.unknown]
        bar.update()

    # Open set: leave people out of the gallery in turn; all their photos are unknown probes.
    folds = proto.stranger_folds()
    for left_out in folds:
        out = set(left_out)
        matcher = proto.gallery([p for p in proto.everyone if p not in out], 0, rule)
        for person in left_out:
            unknown_m += [matcher.identify(e) for _, e in proto.found[person]]
        bar.update()
    bar.close()

    genuine = np.asarray(genuine_s, dtype=np.float64)
    unknown = np.asarray([open_set_score(m) for m in unknown_m], dtype=np.float64)
    report = classification_report(
        truth, [str(p) for p in predicted], output_dict=True, zero_division=0
    )
    per_person = {
        k: {m: float(v[m]) for m in ("precision", "recall", "f1-score", "support")}
        for k, v in report.items()
        if k in proto.found
    }
    n_genuine = len(truth)
    return IdentityReport(
        dataset=str(dataset.root),
        embedder=embedder,
        threshold=rule.threshold_for(len(proto.everyone)),
        margin=rule.margin,
        slope=rule.slope,
        seed=seed,
        rotations=rotations,
        n_people=len(proto.everyone),
        n_images=dataset.n_images,
        n_no_face=len(no_face),
        n_train=n_train,
        n_test=n_genuine,
        closed_set_accuracy=float(
            np.mean(np.asarray(truth) == np.asarray(predicted, dtype=object))
        ),
        per_person=per_person,
        macro_f1=float(report["macro avg"]["f1-score"]),
        far=float(np.mean([m.reason == ACCEPTED for m in unknown_m])) if unknown_m else 0.0,
        frr=rejected / n_genuine if n_genuine else 0.0,
        misidentification_rate=wrong / n_genuine if n_genuine else 0.0,
        n_genuine_probes=n_genuine,
        n_unknown_probes=int(unknown.size),
        method="centroid" if rule.margin == 0 else "centroid+margin",
        sweep=sweep(genuine, unknown),
        closed_set_errors=errors,
        no_face=[str(p) for p in no_face],
    )
