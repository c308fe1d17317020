"""Everything a build reads besides the image, checked before anything is written: the
gallery export (it must open with its passphrase), the rosters, the broker's CA, Wi-Fi keys
and each door's merged config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facegate.access.roster import load_roster
from facegate.errors import FacegateError
from facegate.provision.door_config import DoorFiles, check_door_config
from facegate.provision.errors import ProvisionError
from facegate.provision.fleet import Fleet


@dataclass(frozen=True)
class Gallery:
    bundle: Path
    passphrase: str


def parse_rosters(values: tuple[str, ...], fleet: Fleet) -> dict[str, Path]:
    """``--roster FILE`` (every door) and ``--roster DOOR=FILE`` (one door, wins)."""
    common: Path | None = None
    per_door: dict[str, Path] = {}
    for value in values:
        door, sep, file = value.partition("=")
        if sep:
            fleet.door(door)
            per_door[door] = Path(file)
        elif common is not None:
            raise ProvisionError("--roster FILE given twice (use DOOR=FILE for one door)")
        else:
            common = Path(value)
    out = {d.id: per_door.get(d.id, common) for d in fleet.doors}
    return {k: v for k, v in out.items() if v is not None}


def check_rosters(rosters: dict[str, Path]) -> None:
    for door, path in sorted(rosters.items()):
        try:
            load_roster(path)
        except FacegateError as exc:
            raise ProvisionError(f"door {door}: {exc}") from None


def read_passphrase(path: Path) -> str:
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise ProvisionError(f"gallery passphrase file {path}: {exc.strerror}") from None
    if not lines or not lines[0]:
        raise ProvisionError(f"gallery passphrase file {path} is empty")
    return lines[0]


def check_gallery(gallery: Gallery) -> int:
    """The number of students in the export; a wrong passphrase or a damaged file is refused."""
    from facegate.identity.transfer import read_bundle

    if not gallery.bundle.is_file():
        raise ProvisionError(f"gallery export {gallery.bundle} does not exist")
    try:
        data = read_bundle(gallery.bundle, gallery.passphrase)
    except FacegateError as exc:
        raise ProvisionError(f"gallery export: {exc}") from None
    return len(data.get("students", []))


def check_configs(fleet: Fleet, rosters: dict[str, Path]) -> None:
    ca = fleet.fleet.broker.ca_file
    problems = []
    for door in fleet.doors:
        files = DoorFiles(rosters.get(door.id), fleet.path(ca) if ca else None)
        try:
            check_door_config(fleet, door, files)
        except ProvisionError as exc:
            problems.append(str(exc))
    if problems:
        raise ProvisionError("\n".join(problems))
