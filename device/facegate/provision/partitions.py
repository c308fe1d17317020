"""The partitions of a disk image, read from its partition table with ``sfdisk --json``."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from facegate.provision.errors import ProvisionError

FAT_TYPES = {"b", "c", "e", "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7"}
LINUX_TYPES = {"83", "0fc63daf-8483-4772-8e79-3d69d8477de4"}


@dataclass(frozen=True)
class Partition:
    number: int
    start: int  # bytes
    size: int  # bytes
    type: str

    @property
    def end(self) -> int:
        return self.start + self.size


@dataclass(frozen=True)
class PiLayout:
    """Raspberry Pi OS: partition 1 the FAT boot partition, partition 2 the ext4 root."""

    boot: Partition
    root: Partition


def parse_table(text: str, image_size: int, name: str) -> list[Partition]:
    try:
        table = json.loads(text)["partitiontable"]
        sector = int(table.get("sectorsize", 512))
        parts = [
            Partition(i + 1, int(p["start"]) * sector, int(p["size"]) * sector, str(p["type"]))
            for i, p in enumerate(table["partitions"])
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise ProvisionError(f"{name}: unreadable partition table ({exc})") from None
    for p in parts:
        if p.end > image_size:
            raise ProvisionError(
                f"{name}: partition {p.number} ends at byte {p.end} but the image has "
                f"{image_size} bytes (truncated or incomplete download?)"
            )
    return parts


def read_layout(image: Path) -> PiLayout:
    done = subprocess.run(
        ["sfdisk", "--json", str(image)], capture_output=True, text=True, timeout=30
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise ProvisionError(
            f"{image}: no partition table (is it a Raspberry Pi OS .img?): {done.stderr.strip()}"
        )
    parts = parse_table(done.stdout, image.stat().st_size, str(image))
    if len(parts) < 2 or parts[0].type.lower() not in FAT_TYPES:
        raise ProvisionError(
            f"{image}: not laid out like Raspberry Pi OS (partition 1 FAT boot, partition 2 "
            f"ext4 root); found {[p.type for p in parts]}"
        )
    if parts[1].type.lower() not in LINUX_TYPES:
        raise ProvisionError(f"{image}: partition 2 is not a Linux partition ({parts[1].type})")
    return PiLayout(parts[0], parts[1])
