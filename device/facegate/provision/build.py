"""``facegate provision build``: one card image per door from one Raspberry Pi OS image.

Everything is checked first (fleet, gallery, rosters, configs, base image and its ``e2fsck``,
wheelhouse for the image's Python, room on the root file system); then the staged image is made
(a copy of the base, its root grown when the payload needs it, plus what every door shares);
only then are secrets made and images written, each as ``<door>.img.partial`` renamed when
whole and ``e2fsck``-clean. The base image is only read (an ``.xz`` one is unpacked next to the
outputs).
"""

from __future__ import annotations

import lzma
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import facegate
from facegate.provision.door_config import card_config_text
from facegate.provision.errors import ProvisionError
from facegate.provision.ext4 import Ext4Root, Listing
from facegate.provision.fat import FatBoot
from facegate.provision.fleet import Door, Fleet
from facegate.provision.grow import MIB, grow_root, growth_for
from facegate.provision.inputs import Gallery, check_configs, check_gallery, check_rosters
from facegate.provision.os_release import Release, detect_release
from facegate.provision.partitions import PiLayout, read_layout
from facegate.provision.payload import DoorInputs, door_entries, fleet_entries, strict_gpiod
from facegate.provision.secrets import DOOR_SECRETS, FleetSecrets
from facegate.provision.wheelhouse import check_wheelhouse, used_wheels

# The wheelhouse must fit with room to spare (else the root is grown); the venv (about 3x the
# wheels) is made on first boot, after Raspberry Pi OS has grown the root to the whole card.
MARGIN = 1.1


@dataclass
class BuildPlan:
    fleet: Fleet
    doors: list[Door]
    base: Path
    out: Path
    epoch: int
    layout: PiLayout
    release: Release
    resolved: list[str]
    wheels: list[Path]
    requirements: list[str]
    secrets: FleetSecrets
    rosters: dict[str, Path]
    gallery: Gallery | None
    students: int
    made: list[str] = field(default_factory=list)
    unpacked: Path | None = None
    # Seconds spent per kind of work (stage, copy, personalise, fsck), for the CLI's summary.
    seconds: dict[str, float] = field(default_factory=dict)
    # What the staged image's folders hold: listed once, shared by every door (ext4.apply).
    staged_listing: Listing = field(default_factory=dict)
    need: int = 0  # bytes the shared payload needs on the root
    grow: int = 0  # bytes added to the root partition (0: it fits as it is)
    staged: Path | None = None

    def clock(self, what: str, since: float) -> float:
        now = time.monotonic()
        self.seconds[what] = self.seconds.get(what, 0.0) + now - since
        return now


def _epoch(base: Path) -> int:
    """``SOURCE_DATE_EPOCH``, else the base image's own time: the same inputs, the same bytes."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value:
        if not value.isdigit():
            raise ProvisionError(f"SOURCE_DATE_EPOCH={value!r} is not a number of seconds")
        return int(value)
    return int(base.stat().st_mtime)


def _unpack(base: Path, out: Path) -> Path:
    target = out / f".{base.name.removesuffix('.xz')}.unpacked"
    try:
        with lzma.open(base) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except (lzma.LZMAError, EOFError) as exc:
        target.unlink(missing_ok=True)
        raise ProvisionError(f"{base}: not a complete .xz file ({exc})") from None
    return target


def _copy(src: Path, dst: Path, flush: bool = True) -> None:
    """A sparse copy: unused blocks of a 3 GB image take no room."""
    subprocess.run(
        ["cp", "--sparse=always", "--reflink=auto", str(src), str(dst)],
        check=True,
        capture_output=True,
    )
    if flush:
        _flush(dst)


def _flush(path: Path) -> None:
    """The file's data on disk now: debugfs fsyncs the image when it closes it, and that fsync
    would otherwise wait for the whole copy (measured: most of a door's 0.2 s debugfs run under
    load was that wait, counted as personalising)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


def prepare(
    fleet: Fleet,
    *,
    base: Path,
    out: Path,
    wheelhouse: Path,
    secrets_dir: Path,
    requirements: list[str],
    rosters: dict[str, Path],
    gallery: Gallery | None,
    door_ids: tuple[str, ...] = (),
    max_image_mib: int | None = None,
) -> BuildPlan:
    """Every check, in order; then the staged image (in OUT, grown if the payload needs it);
    then the missing secrets, so a refused build or a failed staging makes none."""
    doors = [fleet.door(d) for d in door_ids] if door_ids else list(fleet.doors)
    check_rosters(rosters)
    check_configs(fleet, rosters)
    students = check_gallery(gallery) if gallery else 0
    if not base.is_file():
        raise ProvisionError(f"base image {base} does not exist")
    secrets = FleetSecrets(secrets_dir, fleet)
    epoch = _epoch(base)
    out.mkdir(parents=True, exist_ok=True)
    unpacked = _unpack(base, out) if base.suffix == ".xz" else None
    image = unpacked or base
    try:
        layout = read_layout(image)
        root = Ext4Root(image, layout.root.start, epoch)
        release = detect_release(
            root.cat("/usr/lib/os-release") or root.cat("/etc/os-release"), str(base)
        )
        if root.listing(["/usr/lib"]).get("/usr/lib", {}).get("aarch64-linux-gnu") is None:
            raise ProvisionError(f"{base}: no /usr/lib/aarch64-linux-gnu: not an arm64 image")
        FatBoot(image, layout.boot.start, epoch).names()
        resolved = check_wheelhouse(wheelhouse, release, requirements)
        wheels = used_wheels(wheelhouse, resolved)
        root.fsck()
        need = _payload_bytes(wheels, gallery, rosters)
        grow = growth_for(need, root.free_bytes())
        _check_growth(base, image, grow, max_image_mib)
        plan = BuildPlan(
            fleet, doors, image, out, epoch, layout, release, resolved, wheels, requirements,
            secrets, rosters, gallery, students, unpacked=unpacked, need=need, grow=grow,
        )  # fmt: skip
        plan.staged = stage(plan)
    except BaseException:
        if unpacked:
            unpacked.unlink(missing_ok=True)
        raise
    try:
        plan.made = [f"{s.door}/{s.name}" for s in secrets.ensure()]
    except BaseException:
        plan.staged.unlink(missing_ok=True)
        raise
    return plan


def _payload_bytes(wheels: list[Path], gallery: Gallery | None, rosters: dict[str, Path]) -> int:
    """Room the payload needs on the root: the wheels with 10 % to spare, the gallery export,
    the biggest roster (one per card), and 8 MiB for the door's small files and metadata."""
    shared = sum(w.stat().st_size for w in wheels) * MARGIN
    shared += gallery.bundle.stat().st_size if gallery else 0
    roster = max((r.stat().st_size for r in rosters.values()), default=0)
    return int(shared) + roster + (8 << 20)


def _check_growth(base: Path, image: Path, grow: int, max_image_mib: int | None) -> None:
    """A root too small is grown, unless the grown image would exceed ``--max-image-mib``."""
    size = image.stat().st_size + grow
    if grow and max_image_mib is not None and size > max_image_mib * MIB:
        raise ProvisionError(
            f"{base}: the payload does not fit the root file system, and growing it by "
            f"{grow // MIB} MiB would make the image {-(-size // MIB)} MiB, over "
            f"--max-image-mib {max_image_mib}"
        )


def _inputs(plan: BuildPlan, door: Door) -> DoorInputs:
    fleet = plan.fleet
    net = fleet.network_of(door)
    roster = plan.rosters.get(door.id)
    facegate_version = next(
        (r.split("==")[1] for r in plan.resolved if r.lower().startswith("facegate==")), None
    )
    manifest = {
        "door": door.id,
        "room": door.room,
        "hostname": door.hostname,
        "fleet": fleet.fleet.name,
        "facegate": facegate_version,
        "built_by": f"facegate {facegate.__version__}",
        "os": plan.release.codename,
        "python": plan.release.python,
        "installs": plan.requirements,
        "wheels": plan.resolved,
        "students_in_gallery_export": plan.students,
        "source_date_epoch": plan.epoch,
    }
    return DoorInputs(
        config_text=card_config_text(fleet, door, roster is not None),
        secrets={n: plan.secrets.path(door, n).read_bytes() for n in DOOR_SECRETS},
        roster=roster.read_bytes() if roster else None,
        gallery_passphrase=f"{plan.gallery.passphrase}\n".encode() if plan.gallery else None,
        requirement=" ".join(plan.requirements),
        psk=fleet.path(net.psk_file).read_text().strip() if net.psk_file else None,
        manifest=manifest,
    )


def stage(plan: BuildPlan) -> Path:
    """The base image plus what every door shares (wheelhouse, units, first boot, config.txt),
    its root grown first if needed; timed as "stage" and "grow"."""
    started = time.monotonic()
    staged = plan.out / ".fleet-stage.img"
    if plan.unpacked:  # already a private copy
        plan.unpacked.replace(staged)
        plan.unpacked = None
    else:
        _copy(plan.base, staged)
    try:
        if plan.grow:
            started = plan.clock("stage", started)
            plan.layout = grow_root(staged, plan.layout, plan.grow, plan.epoch)
            started = plan.clock("grow", started)
            free = Ext4Root(staged, plan.layout.root.start, plan.epoch).free_bytes()
            if free < plan.need:
                raise ProvisionError(
                    f"{plan.base}: the grown root has {free // MIB} MiB free, the payload "
                    f"needs {plan.need // MIB} MiB"
                )
        ca = plan.fleet.fleet.broker.ca_file
        Ext4Root(staged, plan.layout.root.start, plan.epoch).apply(
            fleet_entries(
                plan.fleet,
                plan.fleet.path(ca).read_bytes() if ca else None,
                plan.wheels,
                plan.gallery.bundle.read_bytes() if plan.gallery else None,
            )
        )
        fat = FatBoot(staged, plan.layout.boot.start, plan.epoch)
        config = fat.read("config.txt")
        if config is None:
            raise ProvisionError(f"{plan.base}: the boot partition has no config.txt")
        if strict_gpiod(config) != config:
            fat.write("config.txt", strict_gpiod(config))
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    plan.clock("stage", started)
    return staged


def personalise(plan: BuildPlan, door: Door, partial: Path) -> Path:
    """One door's own files written into its copy of the staged image, checked, renamed."""
    final = plan.out / f"{door.id}.img"
    started = time.monotonic()
    root = Ext4Root(partial, plan.layout.root.start, plan.epoch)
    root.apply(door_entries(plan.fleet, door, _inputs(plan, door)), plan.staged_listing)
    started = plan.clock("personalise", started)
    root.fsck()
    plan.clock("fsck", started)
    os.utime(partial, (plan.epoch, plan.epoch))
    partial.replace(final)
    return final


def build(plan: BuildPlan) -> Iterator[tuple[str, Path]]:
    """``("copied", partial)`` for each door, then ``("image", path)`` for each (the CLI shows
    progress over both); the staged and unpacked copies and any partial image are removed after.

    Every door's copy is made before any is personalised and then flushed once: the disk
    writes one copy back while the next is made, and debugfs's fsync on close, which otherwise
    waits for its copy to reach the disk, finds nothing left to wait for.
    """
    partials: dict[str, Path] = {}
    try:
        if plan.staged is None:
            raise ProvisionError("build() needs a plan from prepare()")
        for door in plan.doors:
            started = time.monotonic()
            partials[door.id] = plan.out / f"{door.id}.img.partial"
            _copy(plan.staged, partials[door.id], flush=False)
            plan.clock("copy", started)
            yield "copied", partials[door.id]
        started = time.monotonic()
        for partial in partials.values():
            _flush(partial)
        plan.clock("copy", started)
        for door in plan.doors:  # a renamed partial is gone: the cleanup below skips it
            yield "image", personalise(plan, door, partials[door.id])
    finally:
        for scratch in (plan.staged, plan.unpacked, *partials.values()):
            if scratch is not None:
                scratch.unlink(missing_ok=True)
