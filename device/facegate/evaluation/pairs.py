"""``facegate eval pairs``: face verification on labelled pairs (same person or not)."""

from __future__ import annotations

import csv
import itertools
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from facegate.errors import DatasetError
from facegate.evaluation.dataset import IdentityDataset

_LABELS = {
    "1": True,
    "yes": True,
    "true": True,
    "same": True,
    "0": False,
    "no": False,
    "false": False,
    "different": False,
}


@dataclass(frozen=True)
class Pair:
    first: Path
    second: Path
    same: bool


@dataclass
class PairsReport:
    pairs_file: str
    embedder: str
    threshold: float
    n_pairs: int
    n_pairs_skipped: int
    n_same: int
    n_different: int
    n_no_face: int
    auc: float
    accuracy: float
    tar_at_far_1pct: float
    tar_at_far_01pct: float
    far_at_threshold: float
    frr_at_threshold: float

    def to_dict(self) -> dict:
        return asdict(self)


def read_pairs(csv_path: Path, images: Path) -> list[Pair]:
    """Parse a pairs CSV (header row; image, image, label; extra columns ignored)."""
    try:
        text = Path(csv_path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DatasetError(f"pairs file {csv_path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"pairs file {csv_path} cannot be read: {exc}") from None
    rows = list(csv.reader(text.splitlines()))
    if len(rows) < 2:
        raise DatasetError(f"pairs file {csv_path} has no pairs after its header row")
    pairs, missing = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < 3:
            raise DatasetError(
                f"{csv_path} line {line}: expected image,image,label; got {len(row)} column(s)"
            )
        label = row[2].strip().lower()
        if label not in _LABELS:
            raise DatasetError(
                f"{csv_path} line {line}: label {row[2]!r} is not one of "
                "1/0, yes/no, true/false, same/different"
            )
        a, b = images / row[0].strip(), images / row[1].strip()
        missing += [str(p) for p in (a, b) if not p.is_file()]
        pairs.append(Pair(a, b, _LABELS[label]))
    if missing:
        shown = ", ".join(sorted(set(missing))[:5])
        raise DatasetError(
            f"{csv_path}: {len(set(missing))} image(s) not found under {images}: {shown}"
        )
    if not any(p.same for p in pairs) or all(p.same for p in pairs):
        raise DatasetError(f"{csv_path}: needs both same-person and different-person pairs")
    return pairs


def write_all_pairs(dataset: IdentityDataset, out: Path) -> int:
    """Every pair of photos of the known people, paths relative to the data set's root."""
    items = [(person, p) for person, files in dataset.people.items() for p in files]
    with Path(out).open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["image1", "image2", "same"])
        n = 0
        for (pa, a), (pb, b) in itertools.combinations(items, 2):
            writer.writerow(
                [
                    a.relative_to(dataset.root).as_posix(),
                    b.relative_to(dataset.root).as_posix(),
                    int(pa == pb),
                ]
            )
            n += 1
    return n


def _tar_at(fpr: np.ndarray, tpr: np.ndarray, far: float) -> float:
    ok = fpr <= far
    return float(tpr[ok].max()) if ok.any() else 0.0


def evaluate_pairs(
    pairs: list[Pair],
    embeddings: dict[Path, np.ndarray | None],
    embedder: str,
    threshold: float,
    pairs_file: str = "",
) -> tuple[PairsReport, np.ndarray, np.ndarray]:
    """Return the report and the (labels, distances) used, for plotting."""
    used = [
        p
        for p in pairs
        if embeddings.get(p.first) is not None and embeddings.get(p.second) is not None
    ]
    if not used:
        raise DatasetError("no pair has a face in both photos")
    same = np.array([p.same for p in used])
    dist = np.array([1.0 - float(embeddings[p.first] @ embeddings[p.second]) for p in used])
    fpr, tpr, _ = roc_curve(same, -dist)
    accept = dist <= threshold
    images = {p for pair in pairs for p in (pair.first, pair.second)}
    report = PairsReport(
        pairs_file=pairs_file,
        embedder=embedder,
        threshold=threshold,
        n_pairs=len(used),
        n_pairs_skipped=len(pairs) - len(used),
        n_same=int(same.sum()),
        n_different=int((~same).sum()),
        n_no_face=sum(1 for p in images if embeddings.get(p) is None),
        auc=float(roc_auc_score(same, -dist)) if 0 < same.sum() < len(same) else float("nan"),
        accuracy=float(np.mean(accept == same)),
        tar_at_far_1pct=_tar_at(fpr, tpr, 0.01),
        tar_at_far_01pct=_tar_at(fpr, tpr, 0.001),
        far_at_threshold=float(np.mean(accept[~same])) if (~same).any() else 0.0,
        frr_at_threshold=float(np.mean(~accept[same])) if same.any() else 0.0,
    )
    return report, same, dist


def plot_roc(curves: dict[str, tuple[np.ndarray, np.ndarray]], out: Path, title: str = "") -> None:
    """ROC (TAR against FAR, log scale) of one or more embedders, as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise DatasetError("plotting needs matplotlib: pip install 'facegate[demo]'") from None
    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    for name, (same, dist) in curves.items():
        fpr, tpr, _ = roc_curve(same, -dist)
        ax.plot(np.maximum(fpr, 1e-4), tpr, label=f"{name} (AUC {roc_auc_score(same, -dist):.4f})")
    ax.set_xscale("log")
    ax.set_xlim(1e-4, 1)
    ax.set_xlabel("false accept rate")
    ax.set_ylabel("true accept rate")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title or "face verification")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def format_report(r: PairsReport) -> str:
    return "\n".join(
        [
            f"pairs         {r.pairs_file}",
            f"embedder      {r.embedder}   threshold {r.threshold:.3f}",
            f"pairs         {r.n_pairs} ({r.n_same} same, {r.n_different} different; "
            f"{r.n_pairs_skipped} skipped, {r.n_no_face} photos without a face)",
            f"AUC           {r.auc:.5f}",
            f"TAR@FAR=1%    {r.tar_at_far_1pct:.2%}    TAR@FAR=0.1%  {r.tar_at_far_01pct:.2%}",
            f"at threshold  accuracy {r.accuracy:.2%}   FAR {r.far_at_threshold:.2%}   "
            f"FRR {r.frr_at_threshold:.2%}",
        ]
    )
