"""A root too small for the payload is grown on the copy: the table's partition 2 ends later,
the file system fills it, every file of the base is still there, e2fsck is clean, two builds
are byte-identical and the base is unchanged. Growing past ``--max-image-mib`` or without room
on the output's disk is refused with its reason, leaving nothing behind."""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.provision.card import fsck_clean, root_spec, sha256
from tests.provision.pi_image import make_pi_image
from tests.provision.test_provision_build import build_args
from tests.provision.test_provision_refusals import assert_refused

SMALL_MB = 24  # 4 MiB of root: the payload's 8 MiB margin alone does not fit


def build(*args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    """``facegate provision ...`` in a child, with a file-size limit standing in for a disk that
    fills up (writes past it fail with EFBIG, as on a full disk they fail with ENOSPC)."""

    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [sys.executable, "-m", "facegate", *args],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit,
    )


def table(image: Path) -> dict:
    out = subprocess.run(["sfdisk", "--json", str(image)], capture_output=True, check=True).stdout
    return json.loads(out)["partitiontable"]


def fs_bytes(image: Path) -> int:
    done = subprocess.run(
        ["debugfs", "-R", "stats", root_spec(image)], capture_output=True, text=True, check=True
    )
    fields = dict(re.findall(r"^(Block count|Block size):\s+(\d+)", done.stdout, re.M))
    return int(fields["Block count"]) * int(fields["Block size"])


def dump_root(image: Path, into: Path) -> dict[str, bytes]:
    """Every regular file of the root, read back with debugfs's rdump."""
    into.mkdir()
    subprocess.run(
        ["debugfs", "-R", f"rdump / {into}", root_spec(image)], capture_output=True, check=True
    )
    return {
        str(p.relative_to(into)): p.read_bytes()
        for p in into.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return make_pi_image(tmp_path_factory.mktemp("small") / "small.img", "bookworm", SMALL_MB)


def test_a_root_too_small_is_grown(small, fleet_dir, wheelhouses, tmp_path):
    before = sha256(small)
    base_table = table(small)
    out = tmp_path / "out"
    done = build(*build_args(fleet_dir, small, out, wheelhouses["3.11"]), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    grown = report["grown_root_bytes"]
    assert grown > 0 and grown % (4 << 20) == 0
    phases = report["seconds"]
    assert {"checks", "stage", "grow", "copy", "personalise", "fsck", "total"} <= set(phases)
    assert sha256(small) == before, "the base image was changed"

    image = out / "door-1.img"
    after = table(image)
    assert after["id"] == base_table["id"] and after["label"] == "dos"
    assert after["partitions"][0] == {**base_table["partitions"][0], "node": f"{image}1"}
    old_root, new_root = base_table["partitions"][1], after["partitions"][1]
    assert new_root["start"] == old_root["start"] and new_root["type"] == old_root["type"]
    assert new_root["size"] * 512 == old_root["size"] * 512 + grown
    assert image.stat().st_size == (new_root["start"] + new_root["size"]) * 512
    assert fs_bytes(image) == new_root["size"] * 512, "the file system does not fill its partition"
    ok, report_text = fsck_clean(image)
    assert ok, report_text

    base_files = dump_root(small, tmp_path / "base")
    card_files = dump_root(image, tmp_path / "card")
    for name, data in base_files.items():
        if name != "etc/hostname":  # the door's own
            assert card_files.get(name) == data, f"{name} lost or changed by the growth"
    for wheel in wheelhouses["3.11"].glob("*.whl"):
        assert card_files[f"opt/facegate/wheelhouse/{wheel.name}"] == wheel.read_bytes()
    assert card_files["etc/hostname"] == b"door-1\n"
    assert "etc/facegate/command.key" in card_files

    again = tmp_path / "again"
    done = build(*build_args(fleet_dir, small, again, wheelhouses["3.11"]))
    assert done.returncode == 0, done.stderr
    assert "root partition was grown by" in done.stdout
    for door in ("door-1", "door-2", "door-3"):
        assert sha256(again / f"{door}.img") == sha256(out / f"{door}.img"), door


def test_growing_past_the_card_size_is_refused(small, fleet_dir, wheelhouses, tmp_path):
    before = sha256(small)
    out = tmp_path / "out"
    args = build_args(fleet_dir, small, out, wheelhouses["3.11"], "--max-image-mib", "30")
    done = build(*args)
    assert_refused(done, ["does not fit the root", "over --max-image-mib 30"], out, fleet_dir)
    assert sha256(small) == before


def test_no_room_on_the_disk_to_grow_is_refused(small, fleet_dir, wheelhouses, tmp_path):
    before = sha256(small)
    out = tmp_path / "out"
    done = build(
        *build_args(fleet_dir, small, out, wheelhouses["3.11"]),
        fsize=small.stat().st_size + (1 << 20),
    )
    assert_refused(done, ["no room to grow the root", "File too large"], out, fleet_dir)
    assert sha256(small) == before


def test_a_gpt_image_is_not_grown(fleet_dir, wheelhouses, tmp_path):
    """Only Raspberry Pi OS's DOS table is grown; a GPT one is refused, nothing left behind."""
    gpt = make_pi_image(tmp_path / "gpt.img", "bookworm", SMALL_MB, label="gpt")
    assert table(gpt)["label"] == "gpt"
    before = sha256(gpt)
    out = tmp_path / "out"
    done = build(*build_args(fleet_dir, gpt, out, wheelhouses["3.11"]))
    assert_refused(done, ["DOS partition tables", "this one is gpt"], out, fleet_dir)
    assert sha256(gpt) == before
