"""Fixtures of the provisioning tests: base images (Bookworm .img, Trixie .img.xz), small
aarch64 wheelhouses, and a fleet folder with a CA, a Wi-Fi key, a roster and a gallery export.

The wheelhouses are real aarch64 wheels fetched with ``pip download`` (MarkupSafe, a compiled
cp311/cp313 wheel, and pyotp, pure Python): the full facegate wheelhouse is 240 MB, too big
for 64 MB test images. The builds install them with ``--require markupsafe --require pyotp``;
the emulated first boot (test_firstboot_arm64.py) uses the full one (aarch64_wheelhouse.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.provision.pi_image import make_pi_image

SMALL = ("markupsafe", "pyotp")
PASSPHRASE = "correct horse battery staple"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJoUsI3YwJEFkD2XM/f3jCDy9n4t4OpIACO7WAgt8TUZ a@b"
WIFI_PSK = "wifi-secret-3f9a1c"


def _download(dest: Path, python: str) -> Path:
    abi = "cp" + python.replace(".", "")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
         "--platform", "manylinux_2_28_aarch64", "--platform", "manylinux2014_aarch64",
         "--python-version", python, "--implementation", "cp", "--abi", abi,
         "--dest", str(dest), *SMALL],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        message = f"pip download of aarch64 wheels failed (network?): {done.stderr[-300:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return dest


@pytest.fixture(scope="session")
def wheelhouses(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("wheelhouses")
    return {py: _download(root / py, py) for py in ("3.11", "3.13")}


@pytest.fixture(scope="session")
def bookworm(tmp_path_factory) -> Path:
    return make_pi_image(tmp_path_factory.mktemp("base") / "bookworm.img", "bookworm")


@pytest.fixture(scope="session")
def trixie_xz(tmp_path_factory) -> Path:
    return make_pi_image(tmp_path_factory.mktemp("base") / "trixie.img.xz", "trixie")


def _gallery_bundle(path: Path) -> None:
    from facegate.identity.gallery import Gallery
    from facegate.identity.transfer import export_gallery

    def vec(seed: int) -> np.ndarray:
        v = np.random.default_rng(seed).normal(size=8).astype(np.float32)
        return v / np.linalg.norm(v)

    work = path.parent / "enrolment"
    with Gallery.open(work / "g.sqlite3", work / "g.key", "facenet", 8, create=True) as g:
        g.add_student("s1001", "Ada Lovelace", [vec(1), vec(2)])
        g.add_student("s1002", "Alan Turing", [vec(3)])
        export_gallery(g, path, PASSPHRASE)


FLEET = """
[fleet]
name = "test-building"
gallery_key = "{gallery_key}"
ssh_keys = ["{key}"]
time_servers = ["ntp.school.example"]

[fleet.broker]
host = "broker.school.example"
port = 8883
ca_file = "ca.crt"

[defaults.access]
code_timeout_s = 20.0

[[doors]]
id = "door-1"
room = "Room 1"
hostname = "door-1"

[[doors]]
id = "door-2"
room = "Room 2"
hostname = "door-2"
network = {{ address = "10.0.0.2/24", gateway = "10.0.0.1", dns = ["10.0.0.1"] }}

[[doors]]
id = "door-3"
room = "Hall"
hostname = "door-hall"
network = {{ kind = "wifi", ssid = "exams", psk_file = "wifi.psk" }}
[doors.config.camera]
width = 1280
height = 720
"""

ROSTER = """
[[session]]
id = "maths"
room = "Room 1"
start = 2026-11-23T09:00:00+01:00
end = 2026-11-23T11:00:00+01:00
students = ["s1001", "s1002"]
"""


def write_fleet(folder: Path, gallery_key: str = "per-door", text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    from tests.mosquitto_broker import make_pki

    if not (folder / "ca.crt").exists():
        pki = make_pki(folder / "pki")
        (folder / "ca.crt").write_bytes(Path(pki.ca_file).read_bytes())
    (folder / "wifi.psk").write_text(WIFI_PSK + "\n")
    (folder / "roster.toml").write_text(ROSTER)
    fleet = folder / "fleet.toml"
    fleet.write_text(text or FLEET.format(gallery_key=gallery_key, key=KEY))
    return fleet


@pytest.fixture(scope="session")
def gallery_export(tmp_path_factory) -> Path:
    """One export for the session (scrypt makes each one cost a second)."""
    path = tmp_path_factory.mktemp("gallery") / "gallery.export"
    _gallery_bundle(path)
    return path


@pytest.fixture
def fleet_dir(tmp_path, gallery_export) -> Path:
    folder = tmp_path / "fleet"
    write_fleet(folder)
    shutil.copy(gallery_export, folder / "gallery.export")
    (folder / "passphrase").write_text(PASSPHRASE + "\n")
    return folder
