"""One ``facegate eval identities`` run: embed once, then the whole set, the gallery sizes and
each group (when the set is a folder of groups)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from facegate.errors import DatasetError
from facegate.evaluation.dataset import scan_identities
from facegate.evaluation.embedding import embed_photos
from facegate.evaluation.gallery_sizes import DRAWS, SIZES, figures_by_size
from facegate.evaluation.groups import group_summary, merge_groups, scan_groups
from facegate.evaluation.identities import IdentityReport, Protocol, evaluate_identities
from facegate.identity.matcher import OpenSetRule
from facegate.vision.pipeline import FacePipeline


def run_identities(
    pipeline: FacePipeline,
    rule: OpenSetRule,
    directory: Path | None = None,
    groups_dir: Path | None = None,
    seed: int = 0,
    rotations: int = 5,
    sizes: Sequence[int] = SIZES,
    draws: int = DRAWS,
    progress: bool = True,
    cache: Path | None = None,
    detection: str = "",
) -> IdentityReport:
    if (directory is None) == (groups_dir is None):
        raise DatasetError("give either a folder of identities or --groups DIR, not both")
    groups = scan_groups(groups_dir) if groups_dir is not None else {}
    dataset = merge_groups(groups_dir, groups) if groups_dir else scan_identities(directory)
    name = pipeline.embedder.name
    embeddings = embed_photos(pipeline, dataset.all_paths(), progress, cache, detection)
    report = evaluate_identities(dataset, embeddings, name, rule, seed, rotations, progress)
    proto = Protocol(dataset, embeddings, rotations, seed)
    report.by_gallery_size = figures_by_size(proto, rule, sizes, draws, seed, progress)
    report.by_gallery_size[str(report.n_people)] = {
        "galleries": rotations,
        "threshold": report.threshold,
        "closed_set_accuracy": report.closed_set_accuracy,
        "far": report.far,
        "frr": report.frr,
        "misidentification_rate": report.misidentification_rate,
        "n_genuine_probes": report.n_genuine_probes,
        "n_unknown_probes": report.n_unknown_probes,
    }
    for group, ds in groups.items():
        one = evaluate_identities(ds, embeddings, name, rule, seed, rotations)
        report.groups[group] = group_summary(one.to_dict())
    return report
