"""``eval identities --groups``: per-group figures on a folder of groups.

facegate has no population-labelled set, so the groups here are symlinks to lfw10's people
(two groups of five): the test checks the mechanics (each group evaluated alone, overall on
all), not a population's figure (docs/recognition.md, "Per-population figures").
"""

import json

import pytest
from click.testing import CliRunner

from facegate.cli import cli

from .conftest import shared

pytestmark = [pytest.mark.data, pytest.mark.slow]


def run_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_groups_of_lfw10(tmp_path):
    lfw = shared("identities", "lfw10")
    people = sorted(p.name for p in lfw.iterdir() if p.is_dir())
    groups = tmp_path / "groups"
    for name, members in (("first", people[:5]), ("second", people[5:])):
        (groups / name).mkdir(parents=True)
        for person in members:
            (groups / name / person).symlink_to(lfw / person)
    cache = tmp_path / "cache"
    r = run_json("eval", "identities", "--groups", str(groups), "--cache", str(cache))
    assert r["n_people"] == 10 and r["n_images"] == 100
    assert set(r["groups"]) == {"first", "second"}
    for g in r["groups"].values():
        assert g["n_people"] == 5 and g["n_images"] == 50
        assert set(g) >= {"closed_set_accuracy", "far", "frr", "n_people", "n_images"}
    # Each group is evaluated on its own: the same figures as that folder alone (cached).
    alone = run_json("eval", "identities", str(groups / "first"), "--cache", str(cache))
    first = r["groups"]["first"]
    for key in ("closed_set_accuracy", "far", "frr"):
        assert first[key] == alone[key], key
    # Sizes 10/50/100 are not smaller than the 10 people: only the whole set is reported.
    assert set(r["by_gallery_size"]) == {"10"}
    assert r["by_gallery_size"]["10"]["far"] == r["far"]


def test_groups_need_two_folders_of_people(tmp_path):
    (tmp_path / "only").mkdir()
    result = CliRunner().invoke(cli, ["eval", "identities", "--groups", str(tmp_path)])
    assert result.exit_code != 0 and "at least two group folders" in str(result.exception)
    result = CliRunner().invoke(
        cli, ["eval", "identities", str(tmp_path), "--groups", str(tmp_path)]
    )
    assert result.exit_code != 0 and "not both" in str(result.exception)
