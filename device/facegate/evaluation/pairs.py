"""``facegate eval pairs``: face verification on labelled pairs (same person or not).

A pairs file may say which group (population) a pair belongs to: a column named ``group``
for the pair, or ``group1`` and ``group2`` for its two photos (a pair counts for a group when
both photos are in it). Figures are then also given per group.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import asdict, dataclass, field
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
    group: str | None = None  # None: no group column, or a pair across two groups


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
    groups: dict[str, dict] = field(default_factory=dict)

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
    group_of = _group_columns(rows[0], csv_path)
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
        pairs.append(Pair(a, b, _LABELS[label], group_of(row, line)))
    if missing:
        shown = ", ".join(sorted(set(missing))[:5])
        raise DatasetError(
            f"{csv_path}: {len(set(missing))} image(s) not found under {images}: {shown}"
        )
    if not any(p.same for p in pairs) or all(p.same for p in pairs):
        raise DatasetError(f"{csv_path}: needs both same-person and different-person pairs")
    return pairs


def _group_columns(header: list[str], csv_path: Path):  # type: ignore[no-untyped-def]
    """A function giving a row's group (None across groups) from the header's group columns."""
    names = [h.strip().lower() for h in header]

    def cell(row: list[str], col: int, line: int) -> str:
        if col >= len(row) or not row[col].strip():
            raise DatasetError(f"{csv_path} line {line}: the {header[col]!r} column is empty")
        return row[col].strip()

    if "group" in names:
        col = names.index("group")
        return lambda row, line: cell(row, col, line)
    if "group1" in names and "group2" in names:
        c1, c2 = names.index("group1"), names.index("group2")

        def both(row: list[str], line: int) -> str | None:
            g1, g2 = cell(row, c1, line), cell(row, c2, line)
            return g1 if g1 == g2 else None

        return both
    if "group1" in names or "group2" in names:
        raise DatasetError(f"{csv_path}: a group1 column needs a group2 column, and back")
    return lambda row, line: None


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


def write_group_pairs(root: Path, groups: dict[str, IdentityDataset], out: Path) -> int:
    """Every pair of photos within each group, with a ``group`` column; paths relative to
    ``root`` (the folder of groups)."""
    with Path(out).open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["image1", "image2", "same", "group"])
        n = 0
        for name, dataset in groups.items():
            items = [(person, p) for person, files in dataset.people.items() for p in files]
            for (pa, a), (pb, b) in itertools.combinations(items, 2):
                rel_a, rel_b = a.relative_to(root).as_posix(), b.relative_to(root).as_posix()
                writer.writerow([rel_a, rel_b, int(pa == pb), name])
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
    report = _figures(pairs, used, same, dist, embeddings, embedder, threshold, pairs_file)
    for group in sorted({p.group for p in used if p.group is not None}):
        mine = np.array([p.group == group for p in used])
        if same[mine].any() and (~same[mine]).any():
            g = _figures(
                [p for p in pairs if p.group == group],
                [p for p, m in zip(used, mine, strict=True) if m],
                same[mine],
                dist[mine],
                embeddings,
                embedder,
                threshold,
                pairs_file,
            )
            report.groups[group] = {
                k: getattr(g, k)
                for k in (
                    "n_pairs",
                    "n_same",
                    "n_different",
                    "auc",
                    "tar_at_far_1pct",
                    "far_at_threshold",
                    "frr_at_threshold",
                )
            }
    return report, same, dist


def _figures(
    pairs: list[Pair],
    used: list[Pair],
    same: np.ndarray,
    dist: np.ndarray,
    embeddings: dict[Path, np.ndarray | None],
    embedder: str,
    threshold: float,
    pairs_file: str,
) -> PairsReport:
    fpr, tpr, _ = roc_curve(same, -dist)
    accept = dist <= threshold
    images = {p for pair in pairs for p in (pair.first, pair.second)}
    return PairsReport(
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
            *(
                f"group {name:<14} {g['n_pairs']:>7} pairs   AUC {g['auc']:.5f}   "
                f"TAR@FAR=1% {g['tar_at_far_1pct']:.2%}   FAR {g['far_at_threshold']:.2%}   "
                f"FRR {g['frr_at_threshold']:.2%}"
                for name, g in r.groups.items()
            ),
        ]
    )
