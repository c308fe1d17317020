"""The first-boot script, taken from a built card and run on a copy of its root.

Here the script runs on x86 as a dry run (``FACEGATE_ROOT`` prefixes its paths and
``FACEGATE_DRY=1`` prints the commands that would change the system: useradd, apt, pip,
systemctl); test_firstboot_arm64.py runs it for real under arm64 emulation. What
is real: its file edits, the order and idempotence of its steps, resuming after a power cut,
and shellcheck.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.provision.card import REPO, facegate, fat_file, root_spec
from tests.provision.test_provision_build import build_args

SCRIPT = REPO / "device/facegate/provision/files/facegate-firstboot.sh"


@pytest.fixture(scope="module")
def card(tmp_path_factory, bookworm, wheelhouses, gallery_export) -> Path:
    from tests.provision.conftest import PASSPHRASE, write_fleet

    folder = tmp_path_factory.mktemp("firstboot")
    fleet_dir = folder / "fleet"
    write_fleet(fleet_dir)
    shutil.copy(gallery_export, fleet_dir / "gallery.export")
    (fleet_dir / "passphrase").write_text(PASSPHRASE + "\n")
    args = build_args(fleet_dir, bookworm, folder / "out", wheelhouses["3.11"], "--door", "door-3")
    done = facegate(*args)
    assert done.returncode == 0, done.stderr
    return folder / "out" / "door-3.img"


def unpack_root(image: Path, into: Path) -> Path:
    """The card's files as a folder: debugfs rdump of what first boot touches, plus config.txt."""
    for folder, parent in (
        ("/etc", "."),
        ("/var/lib/facegate-provision", "var/lib"),
        ("/usr/local/sbin", "usr/local"),
        ("/opt/facegate", "opt"),
    ):
        (into / parent).mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["debugfs", "-R", f"rdump {folder} {into / parent}", root_spec(image)],
            check=True,
            capture_output=True,
        )
    (into / "boot/firmware").mkdir(parents=True)
    (into / "boot/firmware/config.txt").write_bytes(fat_file(image, "config.txt"))
    return into


def run(root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = root / "usr/local/sbin/facegate-firstboot"
    return subprocess.run(
        ["sh", str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, "FACEGATE_ROOT": str(root), "FACEGATE_DRY": "1", **env},
        timeout=60,
    )


def test_shellcheck_is_clean():
    if shutil.which("shellcheck") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("shellcheck missing (scripts/ensure_provision_tools.sh)")
        pytest.skip("shellcheck not installed (scripts/ensure_provision_tools.sh)")
    done = subprocess.run(["shellcheck", "-s", "sh", str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_first_run_does_every_step_and_second_run_none(card, tmp_path):
    root = unpack_root(card, tmp_path / "root")
    first = run(root)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    order = [
        "would run: useradd --system",
        "python3-picamera2",
        "would run: python3 -m venv --system-site-packages",
        f"--find-links {root}/opt/facegate/wheelhouse --no-cache-dir markupsafe pyotp",
        "would run: systemctl enable ssh.service",
        "facegate gallery import",
        "would run: systemctl enable facegate.service",
        "would run: systemctl disable facegate-firstboot.service",
    ]
    positions = [out.find(step) for step in order]
    assert -1 not in positions, out
    assert positions == sorted(positions), out
    hosts = (root / "etc/hosts").read_text()
    assert hosts.count("127.0.1.1") == 1 and "127.0.1.1\tdoor-hall" in hosts
    assert (root / "boot/firmware/config.txt").read_text().count("dtparam=strict_gpiod") == 1
    assert not (root / "var/lib/facegate-provision/gallery.passphrase").exists()
    assert (root / "var/lib/facegate-provision/done").exists()

    again = run(root)
    assert again.returncode == 0, again.stderr
    for step in ("useradd", "venv", "pip", "gallery import", "apt-get"):
        assert step not in again.stdout, again.stdout
    assert (root / "etc/hosts").read_text() == hosts


def test_a_power_cut_during_the_install_redoes_the_venv(card, tmp_path):
    root = unpack_root(card, tmp_path / "root")
    assert run(root).returncode == 0
    (root / "var/lib/facegate-provision/step.venv").unlink()
    again = run(root)
    assert again.returncode == 0, again.stderr
    assert "would run: rm -rf" in again.stdout and "pip install --no-index" in again.stdout
    assert "useradd" not in again.stdout


def test_refuses_a_card_that_was_not_provisioned(tmp_path):
    root = tmp_path / "root"
    (root / "usr/local/sbin").mkdir(parents=True)
    shutil.copy(SCRIPT, root / "usr/local/sbin/facegate-firstboot")
    done = run(root)
    assert done.returncode != 0 and "not a provisioned card" in done.stderr


def test_a_root_prefix_is_for_dry_runs_only(card, tmp_path):
    root = unpack_root(card, tmp_path / "root")
    done = run(root, FACEGATE_DRY="0")
    assert done.returncode != 0 and "dry runs only" in done.stderr
    assert not (root / "var/lib/facegate-provision/step.user").exists()


def test_the_first_boot_unit_says_why_for_every_directive():
    import re

    previous, bare = "", []
    unit = SCRIPT.with_name("facegate-firstboot.service").read_text()
    for number, line in enumerate(unit.splitlines(), 1):
        if re.match(r"[A-Za-z]+=", line) and not previous.startswith("#"):
            bare.append(f"{number}: {line}")
        if line.strip():
            previous = line
    assert not bare, bare
    assert "ConditionPathExists=!/var/lib/facegate-provision/done" in unit
    assert "WantedBy=multi-user.target" in unit
