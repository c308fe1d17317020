"""The offline wheelhouse: checked against the image's Python before anything is written.

pip's own resolver answers the question, offline (``--no-index --find-links``) and for the
target (aarch64, the release's CPython and glibc): would ``pip install REQUIREMENT`` on the
door find a wheel for every dependency? The first-boot script runs the same install for real.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from facegate.provision.errors import ProvisionError
from facegate.provision.os_release import Release

# The newest glibc of each release (manylinux_2_N wheels up to N install).
GLIBC = {"bookworm": 36, "trixie": 41}


def platforms(release: Release) -> list[str]:
    newest = GLIBC[release.codename]
    tags = [f"manylinux_2_{n}_aarch64" for n in range(17, newest + 1)]
    return [*tags, "manylinux2014_aarch64", "linux_aarch64"]


def wheels(wheelhouse: Path) -> list[Path]:
    if not wheelhouse.is_dir():
        raise ProvisionError(f"wheelhouse {wheelhouse} is not a folder")
    found = sorted(wheelhouse.glob("*.whl"))
    if not found:
        raise ProvisionError(f"wheelhouse {wheelhouse} holds no .whl files")
    return found


def check_wheelhouse(wheelhouse: Path, release: Release, requirements: list[str]) -> list[str]:
    """The distributions the door would install, or an error naming what has no wheel."""
    wheels(wheelhouse)
    args = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-"]
    args += ["--no-index", "--find-links", str(wheelhouse), "--only-binary=:all:"]
    args += ["--ignore-installed", "--disable-pip-version-check"]
    for tag in platforms(release):
        args += ["--platform", tag]
    args += ["--python-version", release.python, "--implementation", "cp", "--abi", release.abi]
    with tempfile.TemporaryDirectory(prefix="facegate-wheelcheck-") as tmp:
        done = subprocess.run(
            [*args, "--target", tmp, *requirements],
            capture_output=True,
            text=True,
            timeout=300,
            # Only this wheelhouse: no index or find-links from a pip.conf.
            env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
        )
    if done.returncode != 0:
        reason = " ".join(
            line.strip()
            for line in done.stderr.splitlines()
            if "ERROR" in line or "No matching distribution" in line or "requires" in line
        )
        raise ProvisionError(
            f"wheelhouse {wheelhouse} cannot install {' '.join(requirements)} on "
            f"{release.pretty} (aarch64, CPython {release.python}): "
            f"{reason or done.stderr.strip()[-400:]}"
        )
    report = json.loads(done.stdout)
    return sorted(
        f"{item['metadata']['name']}=={item['metadata']['version']}" for item in report["install"]
    )


def used_wheels(wheelhouse: Path, resolved: list[str]) -> list[Path]:
    """Only the wheels the door installs go on the card (one per resolved distribution)."""
    wanted = {_norm(r.split("==")[0]): r.split("==")[1] for r in resolved}
    out = []
    for wheel in wheels(wheelhouse):
        name, version = wheel.name.split("-")[:2]
        if wanted.get(_norm(name)) == version:
            out.append(wheel)
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()
