"""``facegate provision inspect``: what a built image holds, read back without mounting.

Owners and modes come from the ext4 root itself; secret files are listed, never read out.
"""

from __future__ import annotations

import json
from pathlib import Path

from facegate.provision.ext4 import Ext4Root
from facegate.provision.fat import FatBoot
from facegate.provision.os_release import detect_release
from facegate.provision.partitions import read_layout
from facegate.provision.payload import STAGE, UNITS

FOLDERS = [
    "/etc/facegate",
    "/etc/facegate/provision",
    UNITS,
    f"{UNITS}/facegate.service.d",
    f"{UNITS}/multi-user.target.wants",
    STAGE,
    "/etc/NetworkManager/system-connections",
]
SECRET_NAMES = {"gallery.key", "command.key", "mqtt.password", "gallery.passphrase"}


def inspect_image(image: Path) -> dict:
    if not image.is_file():
        from facegate.provision.errors import ProvisionError

        raise ProvisionError(f"image {image} does not exist")
    layout = read_layout(image)
    root = Ext4Root(image, layout.root.start, 0)
    release = detect_release(
        root.cat("/usr/lib/os-release") or root.cat("/etc/os-release"), str(image)
    )
    manifest_bytes = root.cat("/etc/facegate/provision/manifest.json")
    manifest = json.loads(manifest_bytes) if manifest_bytes else None
    files = []
    for folder, entries in sorted(root.listing(FOLDERS).items()):
        for name, (mode, uid, gid) in sorted(entries.items()):
            if name in (".", ".."):
                continue
            files.append(
                {
                    "path": f"{folder}/{name}",
                    "mode": f"{mode & 0o7777:04o}",
                    "type": {0o04: "dir", 0o10: "file", 0o12: "link"}.get(mode >> 12, "other"),
                    "uid": uid,
                    "gid": gid,
                    "secret": name in SECRET_NAMES or name.endswith(".nmconnection"),
                }
            )
    config = FatBoot(image, layout.boot.start, 0).read("config.txt") or b""
    return {
        "image": str(image),
        "os": release.codename,
        "python": release.python,
        "door": manifest["door"] if manifest else None,
        "facegate": manifest.get("facegate") if manifest else None,
        "manifest": manifest,
        "strict_gpiod": b"dtparam=strict_gpiod" in config,
        "files": files,
    }
