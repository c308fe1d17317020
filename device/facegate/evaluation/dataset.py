"""Identity photo sets: one folder per person; folders starting with '_' hold unknown probes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facegate.errors import DatasetError
from facegate.vision.image_io import image_files


@dataclass(frozen=True)
class IdentityDataset:
    root: Path
    people: dict[str, list[Path]]
    unknown: list[Path]

    @property
    def n_images(self) -> int:
        return sum(len(v) for v in self.people.values()) + len(self.unknown)

    def all_paths(self) -> list[Path]:
        return [p for v in self.people.values() for p in v] + list(self.unknown)


def scan_identities(root: Path) -> IdentityDataset:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a directory of per-person folders")
    people: dict[str, list[Path]] = {}
    unknown: list[Path] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = image_files(folder)
        if folder.name.startswith("_"):
            unknown += files
        elif files:
            people[folder.name] = files
    if len(people) < 2:
        raise DatasetError(f"{root} needs at least two per-person folders with photos")
    few = [name for name, files in people.items() if len(files) < 2]
    if few:
        raise DatasetError(f"{root}: these people have fewer than 2 photos: {', '.join(few)}")
    return IdentityDataset(root, people, unknown)
