"""The evaluations that had no command: ``eval binding``, ``eval face-switch`` and ``eval door``,
each run from the command line on small real input and its JSON checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from facegate.cli import cli
from tests.conftest import shared

pytestmark = pytest.mark.data


def run(tmp_path: Path, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "eval", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_eval_binding_separates_one_person_from_two(tmp_path: Path) -> None:
    blink = shared("blink")
    notes = json.loads((blink / "annotations.json").read_text())
    keys = ("liveportrait/d12.mp4", "liveportrait/d18.mp4")  # two short clips, four blinks
    small = tmp_path / "annotations.json"
    small.write_text(json.dumps({k: notes[k] for k in keys}))
    r = run(tmp_path, "binding", "--clips", str(blink), "--annotations", str(small), "--json")
    assert r["clips"] == list(keys) and r["embedder"] == "facenet"
    assert r["same_person"]["n"] == 4 and r["different_people"]["n"] == 4
    # The door's limit (access.binding_limit, 0.30 for FaceNet) lies between the two.
    assert r["same_person"]["max"] < 0.30 < r["different_people"]["min"]
    assert r["gap"] == pytest.approx(r["different_people"]["min"] - r["same_person"]["max"])


def test_eval_binding_refuses_a_set_without_two_people(tmp_path: Path) -> None:
    blink = shared("blink")
    notes = json.loads((blink / "annotations.json").read_text())
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"liveportrait/d18.mp4": notes["liveportrait/d18.mp4"]}))
    args = ["eval", "binding", "--clips", str(blink), "--annotations", str(one)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0 and "at least two" in str(result.exception)


def test_eval_face_switch_refuses_the_attack_and_lets_the_student_in(tmp_path: Path) -> None:
    r = run(tmp_path, "face-switch", "--runs", "2", "--controls", "1", "--json")
    assert r["runs"] == 2 and r["genuine_runs"] == 1
    assert r["refused"] == 2 and r["genuine_granted"] == 1
    assert sum(r["refused_as"].values()) == 2
    attacks = [row for row in r["rows"] if row["attack"]]
    assert len(attacks) == 2 and not any(row["opened"] for row in attacks)
    genuine = [row for row in r["rows"] if not row["attack"]]
    assert genuine[0]["opened"] and genuine[0]["first_reason"] == "granted"


def test_eval_door_fills_the_four_tables(tmp_path: Path) -> None:
    clips = shared("blink", "liveportrait")
    enrolled, stranger = clips / "d18.mp4", clips / "d12.mp4"
    r = run(tmp_path, "door", str(enrolled), str(stranger), "--enrolled", "1", "--json")
    tables = r["tables"]
    assert {k: len(v) for k, v in tables.items()} == {
        "recognised_real": 1,
        "recognised_fake": 1,
        "unrecognised_real": 1,
        "unrecognised_fake": 1,
    }
    assert tables["recognised_real"][0]["person"] == "d18"
    assert tables["recognised_real"][0]["decision"] == "granted"
    # "recognised" is the door's own rule (threshold and margin), not the distance alone.
    assert tables["recognised_real"][0]["recognised"]
    assert tables["recognised_real"][0]["match"] == "match"
    assert not tables["unrecognised_real"][0]["recognised"]
    for key in ("recognised_fake", "unrecognised_real", "unrecognised_fake"):
        row = tables[key][0]
        assert row["decision"] != "granted" and not row["relay_opened"], (key, row)
    assert r["totals"]["recognised_real"]["granted"] == 1
    assert sum(t["granted"] for t in r["totals"].values()) == 1
