"""Per-population figures: ``facegate eval identities --groups DIR``.

DIR holds one folder per group (a population, however the set was labelled), each holding
identity folders. Every group is evaluated on its own, as a door whose students all come from
that group would see it (gallery and strangers from the group), and all groups together give
the overall figure. facegate ships no labelled groups: the figures are only as good as the
labels of the set they are run on (docs/recognition.md).
"""

from __future__ import annotations

from pathlib import Path

from facegate.errors import DatasetError
from facegate.evaluation.dataset import IdentityDataset, scan_identities


def scan_groups(root: Path) -> dict[str, IdentityDataset]:
    """Each sub-folder of ``root`` as an identity set; at least two groups."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a directory of group folders")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if len(folders) < 2:
        raise DatasetError(f"{root} needs at least two group folders, each of identity folders")
    groups = {}
    for folder in folders:
        try:
            groups[folder.name] = scan_identities(folder)
        except DatasetError as exc:
            raise DatasetError(f"group {folder.name!r}: {exc}") from None
    return groups


def merge_groups(root: Path, groups: dict[str, IdentityDataset]) -> IdentityDataset:
    """All groups as one set; a person is named ``group/person`` (names may repeat)."""
    people = {
        f"{name}/{person}": files
        for name, ds in groups.items()
        for person, files in ds.people.items()
    }
    unknown = [p for ds in groups.values() for p in ds.unknown]
    return IdentityDataset(Path(root), people, unknown)


def group_summary(report_dict: dict) -> dict:
    """The per-group fields of the JSON."""
    keys = ("closed_set_accuracy", "far", "frr", "misidentification_rate", "n_people", "n_images")
    out = {k: report_dict[k] for k in keys}
    out["n_genuine_probes"] = report_dict["n_genuine_probes"]
    out["n_unknown_probes"] = report_dict["n_unknown_probes"]
    return out
