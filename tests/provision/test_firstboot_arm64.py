"""The first boot's user and install steps for real, on arm64 under qemu-user: the script from
a built card runs in a chroot of an arm64 Debian root (Bookworm: CPython 3.11, Trixie: 3.13),
makes the ``facegate`` user, the venv with ``--system-site-packages`` and installs the card's
wheelhouse offline; the venv's Python then imports the compiled aarch64 wheel.

Minutes per release under emulation (mostly ``python -m venv``'s ensurepip), so it runs under
CI=true or FACEGATE_EMULATION=1 and skips with that reason elsewhere. The wheelhouse is the
small one of the other tests (MarkupSafe, pyotp), not facegate's (docs/provisioning.md).
Steps that need systemd or Raspberry Pi packages (apt, ssh, service) are not run here.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.provision.arm64_root import arm64_root, need_emulation
from tests.provision.card import facegate, root_spec
from tests.provision.test_provision_build import build_args

pytestmark = pytest.mark.slow
AARCH64 = 183  # ELF e_machine


def chroot(root: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chroot", str(root), "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(("release", "python"), [("bookworm", "3.11"), ("trixie", "3.13")])
def test_first_boot_installs_the_wheelhouse_on_arm64(
    release, python, tmp_path, wheelhouses, fleet_dir, tmp_path_factory
):
    need_emulation()
    from tests.provision.pi_image import make_pi_image

    base = make_pi_image(tmp_path / f"{release}.img", release)
    out = tmp_path / "out"
    done = facegate(*build_args(fleet_dir, base, out, wheelhouses[python], "--door", "door-1"))
    assert done.returncode == 0, done.stderr
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", "--reflink=auto", str(arm64_root(release)), str(root)], check=True)
    card = out / "door-1.img"
    for folder, parent in (
        ("/etc/facegate", "etc"),
        ("/usr/local/sbin", "usr/local"),
        ("/opt/facegate", "opt"),
        ("/var/lib/facegate-provision", "var/lib"),
    ):
        (root / parent).mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["debugfs", "-R", f"rdump {folder} {root / parent}", root_spec(card)],
            check=True,
            capture_output=True,
        )
    steps = "FACEGATE_STEPS=user venv"
    first = chroot(root, steps, "/bin/sh", "/usr/local/sbin/facegate-firstboot")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "step venv done" in first.stdout
    user = next(
        line
        for line in (root / "etc/passwd").read_text().splitlines()
        if line.startswith("facegate:")
    )
    assert user.endswith(":/var/lib/facegate:/usr/sbin/nologin")
    assert "facegate" in next(
        g for g in (root / "etc/group").read_text().splitlines() if g.startswith("video:")
    )

    probe = chroot(
        root,
        "/opt/facegate/venv/bin/python",
        "-c",
        "import platform, sys, markupsafe._speedups as s, pyotp; "
        "print(platform.machine(), sys.version_info[:2], s.__file__, "
        "pyotp.TOTP('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ').at(59))",
    )
    assert probe.returncode == 0, probe.stderr
    machine, _, rest = probe.stdout.partition(" ")
    assert machine == "aarch64"
    assert f"({python.replace('.', ', ')})" in rest
    speedups = root / probe.stdout.split()[3].lstrip("/")
    assert int.from_bytes(speedups.read_bytes()[18:20], "little") == AARCH64
    assert probe.stdout.split()[-1] == "287082"  # RFC 6238, SHA-1 secret, t=59 (6 digits)
    venv_cfg = (root / "opt/facegate/venv/pyvenv.cfg").read_text()
    assert "include-system-site-packages = true" in venv_cfg

    again = chroot(root, steps, "/bin/sh", "/usr/local/sbin/facegate-firstboot")
    assert again.returncode == 0, again.stderr
    assert "step" not in again.stdout, "a second run redid a step"
    shutil.rmtree(root)
