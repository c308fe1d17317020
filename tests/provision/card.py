"""Reading a built card back with the plain tools (sfdisk, debugfs, mtools, e2fsck), not with
the code under test, so a test sees what a Pi would see."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def partitions(image: Path) -> list[tuple[int, int]]:
    """(offset, size) in bytes of each partition."""
    out = subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, check=True).stdout
    table = json.loads(out)["partitiontable"]
    return [(p["start"] * 512, p["size"] * 512) for p in table["partitions"]]


def root_spec(image: Path) -> str:
    return f"{image}?offset={partitions(image)[1][0]}"


def root_file(image: Path, path: str) -> bytes:
    done = subprocess.run(["debugfs", "-R", f"cat {path}", root_spec(image)], capture_output=True)
    assert b"not found" not in done.stderr, f"{path}: {done.stderr.decode()}"
    return done.stdout


def root_stat(image: Path, path: str) -> dict:
    """type, mode, uid, gid (and the link target) as debugfs reports them."""
    done = subprocess.run(
        ["debugfs", "-R", f"stat {path}", root_spec(image)], capture_output=True, text=True
    )
    assert "not found" not in done.stderr, f"{path}: {done.stderr}"
    text = done.stdout
    kind, mode = re.search(r"Type: (\w+)\s+Mode:\s+(\d+)", text).groups()
    uid, gid = re.search(r"User:\s+(\d+)\s+Group:\s+(\d+)", text).groups()
    target = re.search(r'Fast link dest: "([^"]*)"', text)
    return {
        "type": kind,
        "mode": int(mode, 8),
        "uid": int(uid),
        "gid": int(gid),
        "target": target.group(1) if target else None,
    }


def fat_file(image: Path, name: str) -> bytes:
    offset = partitions(image)[0][0]
    return subprocess.run(
        ["mcopy", "-n", "-i", f"{image}@@{offset}", f"::{name}", "-"],
        capture_output=True,
        check=True,
        env={**os.environ, "MTOOLS_SKIP_CHECK": "1"},
    ).stdout


def fat_bytes(image: Path) -> bytes:
    offset, size = partitions(image)[0]
    with image.open("rb") as fh:
        fh.seek(offset)
        return fh.read(size)


def fsck_clean(image: Path) -> tuple[bool, str]:
    done = subprocess.run(["e2fsck", "-fn", root_spec(image)], capture_output=True, text=True)
    return done.returncode == 0, done.stdout + done.stderr


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def facegate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, in a child process."""
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    return subprocess.run(
        [sys.executable, "-m", "facegate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )
