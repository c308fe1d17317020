"""``facegate eval identities``: the paper's 80/20 protocol plus open-set figures.

Closed set: each person's photos are split 80/20 (seeded), the SVM matcher is trained on the
80% and names every test photo (the paper's Table 1). The split is rotated five times by
default so that every photo is a test photo once (``rotations=1`` is the paper's one split).

Open set: a door must also reject people it has never seen, so people are left out of the
gallery in turn (5 folds over people) and all their photos are shown as unknown probes;
unknown-probe folders (``_*``) are probes against the full gallery. At the shipped threshold,
FAR = unknown probes accepted as anyone, FRR = enrolled people's test photos rejected.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report

from facegate.evaluation.dataset import IdentityDataset
from facegate.identity.matcher import Matcher

OPEN_SET_FOLDS = 5


@dataclass
class IdentityReport:
    dataset: str
    embedder: str
    threshold: float
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


def _sweep(genuine: np.ndarray, unknown: np.ndarray) -> dict[str, float | None]:
    """Reference points of this very set (never used for decisions): the equal-error rate, and
    the largest threshold with FAR <= 1% with its FRR, i.e. what calibrating on this set for a
    1% false-accept rate would give (how the shipped threshold was chosen on faces94)."""
    cuts = np.unique(np.concatenate([genuine[np.isfinite(genuine)], unknown, [0.0, 2.0]]))
    far = np.array([np.mean(unknown <= t) for t in cuts]) if unknown.size else np.zeros(cuts.size)
    frr = np.array([np.mean(genuine > t) for t in cuts]) if genuine.size else np.zeros(cuts.size)
    i = int(np.argmin(np.abs(far - frr)))
    ok = np.flatnonzero(far <= 0.01)
    # Just below the first threshold whose FAR exceeds 1%.
    j = int(ok[-1]) if ok.size else None
    t_far = None
    if j is not None:
        t_far = float(np.nextafter(cuts[j + 1], -np.inf)) if j + 1 < cuts.size else float(cuts[j])
    return {
        "eer": float((far[i] + frr[i]) / 2),
        "eer_threshold": float(cuts[i]),
        "threshold_at_far_1pct": t_far,
        "frr_at_far_1pct": None if j is None else float(frr[j]),
    }


def evaluate_identities(
    dataset: IdentityDataset,
    embeddings: dict[Path, np.ndarray | None],
    embedder: str,
    threshold: float,
    seed: int = 0,
    svm_c: float = 1.0,
    rotations: int = 5,
) -> IdentityReport:
    rng = np.random.default_rng(seed)
    no_face = [p for p in dataset.all_paths() if embeddings.get(p) is None]
    found: dict[str, list[tuple[Path, np.ndarray]]] = {}
    parts: dict[str, list[np.ndarray]] = {}
    for person, paths in dataset.people.items():
        have = [(p, e) for p in paths if (e := embeddings.get(p)) is not None]
        if len(have) >= 2:
            found[person] = have
            parts[person] = _parts(len(have), rotations, rng)
    everyone = sorted(found)

    def split(person: str, r: int) -> tuple[list[np.ndarray], list[tuple[Path, np.ndarray]]]:
        test_idx = set(parts[person][r % len(parts[person])].tolist())
        items = found[person]
        return (
            [e for i, (_, e) in enumerate(items) if i not in test_idx],
            [items[i] for i in sorted(test_idx)],
        )

    def gallery(people: list[str], r: int) -> Matcher:
        labels, vectors = [], []
        for person in people:
            train, _ = split(person, r)
            labels += [person] * len(train)
            vectors += train
        return Matcher(labels, np.vstack(vectors), threshold, svm_c, seed)

    truth, predicted, errors = [], [], []
    genuine_d, rejected, wrong, n_train = [], 0, 0, 0
    method = "nearest"
    for r in range(rotations):
        full = gallery(everyone, r)
        method = full.method
        for person in everyone:
            train, test = split(person, r)
            n_train += len(train)
            for path, probe in test:
                m = full.identify(probe)
                truth.append(person)
                predicted.append(m.candidate_id)
                if m.candidate_id != person:
                    errors.append(
                        {"photo": str(path), "truth": person, "predicted": m.candidate_id}
                    )
                genuine_d.append(m.distance if m.candidate_id == person else np.inf)
                if not m.accepted:
                    rejected += 1
                elif m.candidate_id != person:
                    wrong += 1
        if r == 0:
            unknown_d = [
                full.identify(e).distance
                for p in dataset.unknown
                if (e := embeddings.get(p)) is not None
            ]

    # Open set: leave people out of the gallery in turn; all their photos are unknown probes.
    order = list(rng.permutation(everyone))
    folds = [order[i::OPEN_SET_FOLDS] for i in range(min(OPEN_SET_FOLDS, len(order)))]
    for left_out in folds:
        enrolled = [p for p in everyone if p not in left_out]
        matcher = gallery(enrolled, 0)
        for person in left_out:
            unknown_d += [matcher.identify(e).distance for _, e in found[person]]

    genuine = np.asarray(genuine_d, dtype=np.float64)
    unknown = np.asarray(unknown_d, dtype=np.float64)
    report = classification_report(truth, predicted, output_dict=True, zero_division=0)
    per_person = {
        k: {m: float(v[m]) for m in ("precision", "recall", "f1-score", "support")}
        for k, v in report.items()
        if k in found
    }
    n_genuine = len(truth)
    return IdentityReport(
        dataset=str(dataset.root),
        embedder=embedder,
        threshold=threshold,
        seed=seed,
        rotations=rotations,
        n_people=len(everyone),
        n_images=dataset.n_images,
        n_no_face=len(no_face),
        n_train=n_train,
        n_test=n_genuine,
        closed_set_accuracy=float(
            np.mean(np.asarray(truth) == np.asarray(predicted, dtype=object))
        ),
        per_person=per_person,
        macro_f1=float(report["macro avg"]["f1-score"]),
        far=float(np.mean(unknown <= threshold)) if unknown.size else 0.0,
        frr=rejected / n_genuine if n_genuine else 0.0,
        misidentification_rate=wrong / n_genuine if n_genuine else 0.0,
        n_genuine_probes=n_genuine,
        n_unknown_probes=int(unknown.size),
        method=method,
        sweep=_sweep(genuine, unknown),
        closed_set_errors=errors,
        no_face=[str(p) for p in no_face],
    )


def format_report(r: IdentityReport) -> str:
    lines = [
        f"data set      {r.dataset}",
        f"embedder      {r.embedder}   matcher {r.method}   threshold {r.threshold:.3f}   "
        f"seed {r.seed}",
        f"images        {r.n_images} ({r.n_no_face} without a face), {r.n_people} people, "
        f"{r.n_train} train / {r.n_test} test over {r.rotations} rotation(s) of the 80/20 split",
        "",
        f"{'person':<28}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}",
    ]
    for name, m in r.per_person.items():
        lines.append(
            f"{name:<28}{m['precision']:>10.2f}{m['recall']:>10.2f}{m['f1-score']:>10.2f}"
            f"{int(m['support']):>9}"
        )
    lines += [
        "",
        f"closed-set accuracy  {r.closed_set_accuracy:.2%}   (macro F1 {r.macro_f1:.3f})",
        f"open set at threshold {r.threshold:.3f}:",
        f"  unknown accepted (FAR)   {r.far:.2%} of {r.n_unknown_probes} unknown probes",
        f"  genuine rejected (FRR)   {r.frr:.2%} of {r.n_genuine_probes} genuine probes",
        f"  genuine misidentified    {r.misidentification_rate:.2%}",
    ]
    s = r.sweep
    if s:
        lines.append(
            f"  (this set alone would give: EER {s['eer']:.2%} at {s['eer_threshold']:.3f}; "
            f"FAR<=1% up to threshold {s['threshold_at_far_1pct']:.3f}, "
            f"where FRR is {s['frr_at_far_1pct']:.2%})"
        )
    for e in r.closed_set_errors:
        lines.append(f"  misclassified: {e['photo']} ({e['truth']} -> {e['predicted']})")
    return "\n".join(lines)
