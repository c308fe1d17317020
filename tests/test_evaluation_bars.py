"""The recognition bars of the README, measured with the harness on the real photo sets.

These are the same commands the README shows; they fail if a change costs accuracy.
"""

import json

import pytest
from click.testing import CliRunner

from facegate.cli import cli

from .conftest import REPO, shared

pytestmark = [pytest.mark.data, pytest.mark.slow]


def run_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_lfw10_identities():
    r = run_json("eval", "identities", str(shared("identities", "lfw10")))
    assert r["n_images"] == 100 and r["n_no_face"] == 0
    assert r["closed_set_accuracy"] >= 0.97
    assert r["far"] <= 0.01 and r["frr"] <= 0.03
    assert r["threshold"] == 0.35
    assert set(r) >= {"closed_set_accuracy", "far", "frr", "threshold", "n_images", "n_no_face"}


def test_faces94_identities():
    r = run_json("eval", "identities", str(shared("identities", "faces94")))
    assert r["closed_set_accuracy"] == 1.0
    assert r["far"] <= 0.01 and r["frr"] <= 0.03
    assert r["n_unknown_probes"] >= 9


def test_lfw10_paper_protocol_single_split():
    r = run_json("eval", "identities", str(shared("identities", "lfw10")), "--rotations", "1")
    assert r["n_test"] == 20 and r["closed_set_accuracy"] >= 0.97


def test_lfw10_pairs(tmp_path):
    plot = tmp_path / "roc.png"
    r = run_json(
        "eval",
        "pairs",
        "--pairs",
        str(REPO / "tests" / "data" / "lfw10_pairs.csv"),
        "--images",
        str(shared("identities", "lfw10")),
        "--plot",
        str(plot),
    )
    assert r["n_pairs"] == 4950 and r["n_no_face"] == 0
    assert r["auc"] >= 0.996
    assert r["tar_at_far_1pct"] >= 0.9
    assert set(r) >= {"auc", "accuracy", "threshold", "tar_at_far_1pct", "n_pairs", "n_no_face"}
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dlib_embedder_is_selectable():
    r = run_json("eval", "identities", str(shared("identities", "lfw10")), "--embedder", "dlib")
    assert r["embedder"] == "dlib" and r["closed_set_accuracy"] >= 0.97
    assert r["far"] <= 0.01 and r["frr"] <= 0.03
