"""Synthetic Raspberry Pi OS-like images, made the way the real ones are laid out: a DOS
partition table (sfdisk), a FAT boot partition (mkfs.vfat, config.txt, cmdline.txt) and an
ext4 root from a folder (mkfs.ext4 -d) with Debian's /etc/os-release of Bookworm or Trixie.
Ids and times are pinned, so the same call gives the same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

TOOLS = (
    "sfdisk",
    "mkfs.vfat",
    "mkfs.ext4",
    "mcopy",
    "mdir",
    "debugfs",
    "e2fsck",
    "resize2fs",
    "xz",
)
# bullseye: a release facegate does not support (its Python is too old), for the refusals.
PYTHON = {"bullseye": "3.9", "bookworm": "3.11", "trixie": "3.13"}
VERSION = {"bullseye": "11", "bookworm": "12", "trixie": "13"}
EPOCH = 1_700_000_000
SECTOR = 512
# As Raspberry Pi OS ends it: a model filter ([cm4]) last, so an appended line needs [all].
CONFIG_TXT = "# Raspberry Pi OS\ndtparam=audio=on\ncamera_auto_detect=1\n[cm4]\notg_mode=1\n"
CMDLINE_TXT = "console=serial0,115200 root=PARTUUID=5eed1234-02 rootfstype=ext4 rootwait\n"
BOOT_START = 8192  # sectors, as Raspberry Pi OS
BOOT_SECTORS = 32768  # 16 MiB


def need_tools() -> None:
    """Skip without the image tools; under CI their absence is a failure
    (scripts/ensure_provision_tools.sh installs them)."""
    missing = [t for t in TOOLS if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]
    if missing:
        message = f"image tools missing: {', '.join(missing)} (scripts/ensure_provision_tools.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _root_tree(tree: Path, codename: str) -> None:
    py = PYTHON[codename]
    (tree / "usr/lib/aarch64-linux-gnu").mkdir(parents=True)
    (tree / f"usr/lib/python{py}").mkdir(parents=True)
    (tree / "usr/bin").mkdir(parents=True)
    (tree / f"usr/bin/python{py}").write_bytes(b"\x7fELF (placeholder)\n")
    (tree / "usr/lib/os-release").write_text(
        f'PRETTY_NAME="Debian GNU/Linux {VERSION[codename]} ({codename})"\n'
        f'NAME="Debian GNU/Linux"\nVERSION_ID="{VERSION[codename]}"\n'
        f"VERSION_CODENAME={codename}\nID=debian\n"
    )
    etc = tree / "etc"
    (etc / "systemd/system/multi-user.target.wants").mkdir(parents=True)
    (etc / "ssh").mkdir()
    (etc / "NetworkManager/system-connections").mkdir(parents=True)
    os.symlink("../usr/lib/os-release", etc / "os-release")
    (etc / "hostname").write_text("raspberrypi\n")
    (etc / "hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (tree / "boot/firmware").mkdir(parents=True)
    (tree / "var/lib").mkdir(parents=True)
    (tree / "opt").mkdir()
    for path in tree.rglob("*"):
        os.utime(path, (EPOCH, EPOCH), follow_symlinks=False)


GPT_TYPES = ("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "0FC63DAF-8483-4772-8E79-3D69D8477DE4")


def make_pi_image(path: Path, codename: str, size_mb: int = 64, label: str = "dos") -> Path:
    """A two-partition image at ``path`` (``.xz``: compressed after); ``label="gpt"`` for a GPT
    table (not Raspberry Pi OS's, for the refusals)."""
    need_tools()
    raw = path.with_suffix("") if path.suffix == ".xz" else path
    work = raw.parent / f".{raw.name}.parts"
    work.mkdir()
    env = {**os.environ, "E2FSPROGS_FAKE_TIME": str(EPOCH), "SOURCE_DATE_EPOCH": str(EPOCH)}
    total = size_mb * 1024 * 1024 // SECTOR
    root_start = BOOT_START + BOOT_SECTORS
    with raw.open("wb") as fh:
        fh.truncate(total * SECTOR)
    types = ("c", "83") if label == "dos" else GPT_TYPES
    table = (
        ("label: dos\nlabel-id: 0x5eed1234\n" if label == "dos" else "label: gpt\n")
        + f"start={BOOT_START}, size={BOOT_SECTORS}, type={types[0]}\n"
        + f"start={root_start}, type={types[1]}\n"
    )
    subprocess.run(["sfdisk", "-q", str(raw)], input=table.encode(), check=True, env=env)
    listed = subprocess.run(["sfdisk", "--json", str(raw)], capture_output=True, check=True)
    root_sectors = json.loads(listed.stdout)["partitiontable"]["partitions"][1]["size"]
    boot = work / "boot.fat"
    subprocess.run(
        ["mkfs.vfat", "--invariant", "-i", "5eed0001", "-n", "bootfs", "-C", str(boot),
         str(BOOT_SECTORS * SECTOR // 1024)],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    for name, text in (("config.txt", CONFIG_TXT), ("cmdline.txt", CMDLINE_TXT)):
        src = work / name
        src.write_text(text)
        os.utime(src, (EPOCH, EPOCH))
        subprocess.run(
            ["mcopy", "-m", "-i", str(boot), str(src), f"::{name}"],
            check=True, env={**env, "MTOOLS_SKIP_CHECK": "1"},
        )  # fmt: skip
    tree = work / "root"
    _root_tree(tree, codename)
    rootfs = work / "root.ext4"
    seed = "5eed0000-0000-4000-8000-000000000002"
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-d", str(tree), "-U", seed, "-E", f"hash_seed={seed}",
         "-L", "rootfs", str(rootfs), f"{root_sectors * SECTOR // 1024}k"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    for part, start in ((boot, BOOT_START), (rootfs, root_start)):
        subprocess.run(
            ["dd", f"if={part}", f"of={raw}", f"bs={SECTOR}", f"seek={start}",
             "conv=notrunc,sparse", "status=none"],
            check=True,
        )  # fmt: skip
    shutil.rmtree(work)
    if raw != path:
        subprocess.run(["xz", "-T1", "-0", "-f", str(raw)], check=True)
    return path
