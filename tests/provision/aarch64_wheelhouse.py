"""facegate's real offline wheelhouse for an aarch64 door: facegate's own wheel, built from this
checkout each run, and every runtime dependency as an aarch64 wheel for the release's CPython
(``pip download --only-binary=:all:`` with the platform tags the build checks against).

The dependency wheels (about 240 MB a release) are cached in ``$FACEGATE_TEST_CACHE`` like the
arm64 roots, keyed by the requirements and tags: a change to pyproject.toml fetches again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from facegate.provision.os_release import PYTHONS, Release
from facegate.provision.wheelhouse import platforms
from tests.provision.arm64_root import cache_dir, skip_or_fail
from tests.provision.card import REPO


def runtime_requirements() -> list[str]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]


def build_facegate_wheel(out: Path) -> Path:
    """facegate's wheel (with its models) from this checkout, as ``make check-wheel`` builds it."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out),
         str(REPO)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = out.glob("facegate-*.whl")
    return wheel


def dependency_wheels(codename: str) -> Path:
    """The cached folder of aarch64 wheels of facegate's runtime dependencies for ``codename``."""
    release = Release(codename, PYTHONS[codename], codename)
    top = cache_dir() / f"aarch64-wheels-{release.abi}"
    tags = platforms(release)
    key = json.dumps({"requirements": runtime_requirements(), "platforms": tags})
    folder = top / "wheels"
    if (top / "complete").exists() and (top / "complete").read_text() == key:
        return folder
    shutil.rmtree(top, ignore_errors=True)
    folder.mkdir(parents=True)
    args = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"]
    for tag in tags:
        args += ["--platform", tag]
    args += ["--python-version", release.python, "--implementation", "cp", "--abi", release.abi]
    done = subprocess.run(
        [*args, "--dest", str(folder), *runtime_requirements()],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if done.returncode != 0:
        skip_or_fail(f"pip download of facegate's aarch64 wheels failed: {done.stderr[-400:]}")
    (top / "complete").write_text(key)
    return folder


def facegate_wheelhouse(codename: str, facegate_wheel: Path, dest: Path) -> Path:
    """A wheelhouse folder: links to the cached dependencies plus facegate's fresh wheel."""
    dest.mkdir(parents=True)
    for wheel in [*sorted(dependency_wheels(codename).glob("*.whl")), facegate_wheel]:
        (dest / wheel.name).symlink_to(wheel)
    return dest
