"""The command line end to end on the demo photos: enrol, list, identify, export, remove."""

import json
import subprocess
import sys

import cv2
import pytest
from click.testing import CliRunner

from facegate.cli import cli
from facegate.demo.material import blurred, variants


@pytest.fixture
def env(tmp_path, demo_photos, monkeypatch):
    monkeypatch.delenv("FACEGATE_CONFIG", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    photos = tmp_path / "photos"
    for person in ("hopper", "astronaut"):
        folder = photos / f"enrol-{person}"
        folder.mkdir(parents=True)
        for i, image in enumerate(variants(demo_photos[person], 4, seed=7)):
            cv2.imwrite(str(folder / f"{i}.jpg"), image)
    cv2.imwrite(str(photos / "blurred.jpg"), blurred(demo_photos["hopper"]))
    cv2.imwrite(str(photos / "probe-hopper.jpg"), variants(demo_photos["hopper"], 1, seed=99)[0])
    cv2.imwrite(str(photos / "cameraman.png"), demo_photos["cameraman"])
    return tmp_path, photos


def run(data, *args, ok=True, input=None):
    result = CliRunner().invoke(cli, ["--data-dir", str(data), *args], input=input)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def enrol_hopper(data, *photos):
    return run(data, "enroll", "--id", "hopper", "--name", "Grace Hopper", *map(str, photos))


def test_enrol_list_identify_remove(env):
    tmp, photos = env
    data = tmp / "data"
    out = enrol_hopper(data, photos / "enrol-hopper", photos / "blurred.jpg").output
    assert "hopper: enrolled 4 template(s) from 5 photo(s), 1 refused" in out
    assert "blurry" in out
    run(
        data,
        "enroll",
        "--id",
        "collins",
        "--name",
        "Eileen Collins",
        str(photos / "enrol-astronaut"),
    )
    listed = json.loads(run(data, "gallery", "list", "--json").stdout)
    assert [s["student_id"] for s in listed["students"]] == ["collins", "hopper"]
    assert listed["students"][1]["name"] == "Grace Hopper"

    rows = json.loads(
        run(
            data,
            "identify",
            "--json",
            str(photos / "probe-hopper.jpg"),
            str(photos / "cameraman.png"),
        ).stdout
    )
    hopper = [r for r in rows if r["photo"].endswith("probe-hopper.jpg")]
    assert hopper[0]["decision"] == "match" and hopper[0]["student_id"] == "hopper"
    stranger = [r for r in rows if r["photo"].endswith("cameraman.png")]
    assert all(r["decision"] != "match" for r in stranger)

    roster = json.loads(
        run(
            data, "identify", "--json", "--candidates", "collins", str(photos / "probe-hopper.jpg")
        ).stdout
    )
    # hopper is enrolled but not a candidate: named as hopper, never accepted as collins.
    assert roster[0]["decision"] == "not_a_candidate" and roster[0]["student_id"] is None
    assert roster[0]["nearest_id"] == "hopper" and roster[0]["candidate_id"] == "collins"

    assert "removed hopper" in run(data, "gallery", "remove", "hopper").output
    bad = run(data, "gallery", "remove", "hopper", ok=False)
    assert bad.exit_code != 0


def test_export_import_round_trip(env, monkeypatch):
    tmp, photos = env
    enrol_hopper(tmp / "a", photos / "enrol-hopper")
    monkeypatch.setenv("FACEGATE_EXPORT_PASSPHRASE", "correct horse battery staple")
    bundle = tmp / "export.fgx"
    run(tmp / "a", "gallery", "export", str(bundle))
    assert b"Grace Hopper" not in bundle.read_bytes()
    run(tmp / "b", "gallery", "import", str(bundle))
    listed = json.loads(run(tmp / "b", "gallery", "list", "--json").stdout)
    assert listed["students"][0] == {
        **listed["students"][0],
        "student_id": "hopper",
        "n_templates": 4,
    }
    monkeypatch.setenv("FACEGATE_EXPORT_PASSPHRASE", "a wrong passphrase!")
    wrong = run(tmp / "c", "gallery", "import", str(bundle), ok=False)
    assert wrong.exit_code != 0
    assert not (tmp / "c" / "gallery.sqlite3").exists()


def test_from_dir_and_calibrate(env):
    tmp, photos = env
    data = tmp / "data"
    out = json.loads(run(data, "enroll", "--from-dir", str(photos), "--json").stdout)
    enrolled = {s["student_id"]: s for s in out["students"]}
    assert out["failed"] == 0 and enrolled["enrol-hopper"]["templates"] == 4
    assert enrolled["enrol-astronaut"]["enrolled"] and enrolled["enrol-astronaut"]["templates"] == 4
    cal = run(data, "gallery", "calibrate", "--target-far", "0.01")
    assert "threshold" in cal.output and "warning" in cal.output  # two people are few
    again = json.loads(run(data, "gallery", "calibrate", "--json").stdout)
    assert again["students"] == 2 and again["limited_by_sample"] is True
    assert 0 < again["threshold"] < 2 and again["target_far"] == 0.01
    listed = json.loads(run(data, "gallery", "list", "--json").stdout)
    assert listed["calibration"]["target_far"] == 0.01
    run(data, "gallery", "calibrate", "--reset")
    assert json.loads(run(data, "gallery", "list", "--json").stdout)["calibration"] is None


def test_usage_errors_and_missing_gallery(env):
    tmp, photos = env
    assert run(tmp / "d", "enroll", ok=False).exit_code == 2
    assert run(tmp / "d", "enroll", "--from-dir", str(photos), "--id", "x", ok=False).exit_code == 2
    assert "enrol students first" in str(run(tmp / "d", "gallery", "list", ok=False).exception)


def test_console_script_errors_are_one_clear_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[embedder]\nthreads = 0\n")
    exe = [sys.executable, "-m", "facegate"]
    done = subprocess.run(
        [*exe, "--config", str(bad), "gallery", "list"], capture_output=True, text=True
    )
    assert done.returncode == 78  # EX_CONFIG: systemd does not restart it
    assert "embedder.threads" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([*exe, "check-config", str(bad)], capture_output=True, text=True)
    assert done.returncode == 78 and "embedder.threads" in done.stderr
    done = subprocess.run([*exe, "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and "facegate" in done.stdout


def test_check_models_json_names_every_shipped_model(env):
    from facegate.vision.model_files import SHIPPED_MODELS

    tmp, _ = env
    out = json.loads(run(tmp / "data", "check-models", "--json").stdout)
    assert out["ok"] is True
    assert [m["name"] for m in out["models"]] == [m.name for m in SHIPPED_MODELS]
    assert all(len(m["sha256"]) == 64 for m in out["models"])


def test_the_console_script_is_the_package_main():
    """pyproject's ``facegate = "facegate.cli:main"`` and ``python -m facegate`` are one."""
    import tomllib
    from pathlib import Path

    import facegate.cli

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    module, _, name = pyproject["project"]["scripts"]["facegate"].partition(":")
    assert getattr(__import__(module, fromlist=[name]), name) is facegate.cli.main
    done = subprocess.run(
        [sys.executable, "-m", "facegate", "eval", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    for command in ("binding", "face-switch", "door", "liveness", "identities", "pairs"):
        assert command in done.stdout
