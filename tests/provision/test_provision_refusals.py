"""Bad input is refused with its reason, before anything is written: no image, no secret, and
the base image unchanged (sha256 before and after)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.provision.card import facegate, partitions, sha256
from tests.provision.conftest import FLEET, KEY
from tests.provision.pi_image import make_pi_image
from tests.provision.test_provision_build import build_args

GOOD = FLEET.format(gallery_key="per-door", key=KEY)


def fleet_with(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


FLEET_CASES = {
    "duplicate id": (
        fleet_with('id = "door-2"', 'id = "door-1"'),
        ["door door-1", "id 'door-1' is used by another door"],
    ),
    "duplicate hostname": (
        fleet_with('hostname = "door-hall"', 'hostname = "door-2"'),
        ["door door-3", "hostname 'door-2'"],
    ),
    "misspelt door key": (
        fleet_with("width = 1280", "widht = 1280"),
        ["door door-3", "camera.widht", "unknown key"],
    ),
    "value out of range": (
        fleet_with("code_timeout_s = 20.0", "code_timeout_s = 0.5"),
        ["door door-1", "access.code_timeout_s"],
    ),
    "override of a fixed key": (
        fleet_with("width = 1280", "width = 1280\n[doors.config.mqtt]\nport = 1"),
        ["door door-3", "mqtt.port", "set by the fleet file"],
    ),
    "bad hostname": (
        fleet_with('hostname = "door-hall"', 'hostname = "Door_Hall"'),
        ["door door-3: hostname"],
    ),
    "wifi without ssid": (
        fleet_with('kind = "wifi", ssid = "exams", ', 'kind = "wifi", '),
        ["door door-3", "ssid and psk_file"],
    ),
    "no ssh key": (fleet_with(f'ssh_keys = ["{KEY}"]', "ssh_keys = []"), ["ssh_keys"]),
}


def assert_refused(done, expected: list[str], out: Path, fleet_dir: Path) -> None:
    assert done.returncode != 0
    for words in expected:
        assert words in done.stderr, (words, done.stderr)
    assert "Traceback" not in done.stderr
    assert not out.exists() or not any(out.iterdir()), "an image was written"
    assert not (fleet_dir / "secrets").exists(), "secrets were made for a refused build"


@pytest.mark.parametrize("case", sorted(FLEET_CASES))
def test_bad_fleet_files(case, fleet_dir, bookworm, wheelhouses, tmp_path):
    text, expected = FLEET_CASES[case]
    (fleet_dir / "fleet.toml").write_text(text)
    before = sha256(bookworm)
    out = tmp_path / "out"
    done = facegate(*build_args(fleet_dir, bookworm, out, wheelhouses["3.11"]))
    assert_refused(done, expected, out, fleet_dir)
    assert sha256(bookworm) == before


def test_check_names_the_door_and_key(fleet_dir):
    text, expected = FLEET_CASES["misspelt door key"]
    (fleet_dir / "fleet.toml").write_text(text)
    done = facegate("provision", "check", str(fleet_dir / "fleet.toml"))
    assert done.returncode != 0 and all(w in done.stderr for w in expected), done.stderr


def test_the_example_fleet_checks(tmp_path):
    done = facegate("provision", "check", "provisioning/examples/fleet.toml")
    assert done.returncode == 0, done.stderr
    assert "3 door(s)" in done.stdout


def corrupt_root(image: Path) -> Path:
    """A root that debugfs still opens but e2fsck rejects: a folder's link count is wrong."""
    offset = partitions(image)[1][0]
    subprocess.run(
        ["debugfs", "-w", "-R", "sif /etc links_count 9", f"{image}?offset={offset}"],
        check=True,
        capture_output=True,
    )
    return image


@pytest.fixture(scope="module")
def bad_images(tmp_path_factory, bookworm) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    noise = folder / "noise.img"
    noise.write_bytes(bytes(range(256)) * 8192)
    truncated = folder / "truncated.img"
    with bookworm.open("rb") as src:
        truncated.write_bytes(src.read(40 * 1024 * 1024))
    xz = make_pi_image(folder / "broken.img.xz", "bookworm")
    broken_xz = folder / "cut.img.xz"
    broken_xz.write_bytes(xz.read_bytes()[: xz.stat().st_size // 2])
    return {
        "noise": noise,
        "truncated": truncated,
        "bullseye": make_pi_image(folder / "bullseye.img", "bullseye"),
        "cut xz": broken_xz,
        "corrupt root": corrupt_root(make_pi_image(folder / "corrupt.img", "bookworm")),
    }


IMAGE_CASES = {
    "noise": ["no partition table"],
    "truncated": ["truncated or incomplete"],
    "bullseye": ["bullseye is not supported", "unknown Python"],
    "cut xz": ["not a complete .xz"],
    "corrupt root": ["e2fsck found errors in the root file system"],
}


@pytest.mark.parametrize("case", sorted(IMAGE_CASES))
def test_bad_base_images(case, bad_images, fleet_dir, wheelhouses, tmp_path):
    image = bad_images[case]
    before = sha256(image)
    out = tmp_path / "out"
    done = facegate(*build_args(fleet_dir, image, out, wheelhouses["3.11"]))
    assert_refused(done, IMAGE_CASES[case], out, fleet_dir)
    assert sha256(image) == before


def test_bad_gallery_and_roster(fleet_dir, bookworm, wheelhouses, tmp_path):
    out = tmp_path / "out"
    (fleet_dir / "passphrase").write_text("not the passphrase\n")
    done = facegate(*build_args(fleet_dir, bookworm, out, wheelhouses["3.11"]))
    assert_refused(done, ["wrong passphrase"], out, fleet_dir)
    (fleet_dir / "gallery.export").unlink()
    done = facegate(*build_args(fleet_dir, bookworm, out, wheelhouses["3.11"]))
    assert_refused(done, ["gallery export", "does not exist"], out, fleet_dir)
    (fleet_dir / "roster.toml").write_text('[[session]]\nid = "x"\n')
    done = facegate(*build_args(fleet_dir, bookworm, out, wheelhouses["3.11"]))
    assert_refused(done, ["door door-1", "invalid roster"], out, fleet_dir)


def test_an_empty_wheelhouse(fleet_dir, bookworm, tmp_path):
    out = tmp_path / "out"
    (tmp_path / "empty").mkdir()
    done = facegate(*build_args(fleet_dir, bookworm, out, tmp_path / "empty"))
    assert_refused(done, ["holds no .whl files"], out, fleet_dir)
    shutil.rmtree(tmp_path / "empty")
