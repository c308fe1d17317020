"""The recognition bars of the README, measured with the harness on the real photo sets.

These are the same commands the README shows; they fail if a change costs accuracy.
"""

import json

import pytest
from click.testing import CliRunner

from facegate.cli import cli
from facegate.identity.thresholds import shipped_rule

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
    # The threshold for a gallery of 10 students, and the shipped margin.
    rule = shipped_rule("facenet")
    assert r["threshold"] == pytest.approx(rule.threshold_for(10)) and r["margin"] == rule.margin
    assert set(r) >= {"closed_set_accuracy", "far", "frr", "threshold", "n_images", "n_no_face"}
    assert set(r["by_gallery_size"]) == {"10"}


def test_faces94_identities():
    r = run_json("eval", "identities", str(shared("identities", "faces94")))
    assert r["closed_set_accuracy"] == 1.0
    assert r["far"] <= 0.01 and r["frr"] <= 0.03
    assert r["n_unknown_probes"] >= 9


# 2,174 photos detected and embedded: about 8 minutes of CPU here, far more on a loaded machine.
@pytest.mark.timeout(3600)
def test_celeba278_at_the_size_of_an_exam():
    """278 people, all enrolled, strangers left out in turn (issue 15). The figures pinned are
    the measured ones (docs/recognition.md): the issue's FRR and closed-set bars are NOT met by
    FaceNet int8 on these in-the-wild photos; this fails if a change lets more strangers in
    or costs accuracy."""
    r = run_json("eval", "identities", str(shared("identities", "celeba278")), "--rotations", "1")
    assert r["n_people"] == 278 and r["n_images"] == 2174 and r["n_no_face"] <= 8
    assert r["far"] <= 0.01  # strangers, all 278 enrolled (measured 0.92%)
    assert r["closed_set_accuracy"] >= 0.89 and r["frr"] <= 0.52  # measured 90.2%, 48.4%
    sizes = r["by_gallery_size"]
    assert set(sizes) == {"10", "50", "100", "278"}
    for size, f in sizes.items():
        assert f["far"] <= 0.015, size
    # The threshold falls as the gallery grows.
    assert sizes["10"]["threshold"] > sizes["100"]["threshold"] > sizes["278"]["threshold"]


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
