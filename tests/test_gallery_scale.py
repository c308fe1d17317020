"""A school-sized gallery: load cost grows with the templates, not their square; the bench
reports its figures. No wall-clock bar is asserted (the machine is shared): only the ratio of
two loads measured in the same run, with a generous bound."""

import time

import numpy as np
import pytest

from facegate.bench.gallery import build_synthetic_gallery, measure_gallery
from facegate.config import Settings
from facegate.errors import GalleryError
from facegate.identity.gallery import Calibration, Gallery
from facegate.identity.recognizer import effective_rule, load_matcher


def _best_load_s(path, key, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        with Gallery.open(path, key, "facenet", 512) as g:
            matcher = load_matcher(g, Settings())
        best = min(best, time.perf_counter() - start)
    assert len(matcher) > 0
    return best


def test_gallery_load_is_not_quadratic(tmp_path):
    """4x the students must cost far less than 16x the time (the SVM took 11.8x for 4x)."""
    small, large = tmp_path / "small.sqlite", tmp_path / "large.sqlite"
    key = tmp_path / "k.key"
    build_synthetic_gallery(small, key, 300)
    build_synthetic_gallery(large, key, 1200, seed=1)
    t_small, t_large = _best_load_s(small, key), _best_load_s(large, key)
    assert t_large / t_small < 9.0, (t_small, t_large)


def test_bench_gallery_reports_every_figure():
    r = measure_gallery(Settings(), 50, searches=50)
    assert r["students"] == 50 and r["templates"] == 250
    for key in ("load_s", "reload_s", "rss_mb", "search_ms_p50", "roster_search_ms_p50"):
        assert r[key] > 0, key
    assert r["searches_during_reload"] >= 0


def test_add_students_is_all_or_nothing(tmp_path):
    path, key = tmp_path / "g.sqlite", tmp_path / "k.key"
    good = [np.ones(512) / np.sqrt(512)] * 2
    with Gallery.open(path, key, "facenet", 512, create=True) as g:
        with pytest.raises(GalleryError, match="not a finite 512-D"):
            g.add_students([("a", "Ann", good), ("b", "Bob", [np.ones(511)])])
        assert g.students() == []
        assert g.add_students([("a", "Ann", good), ("b", "Bob", good)]) == 4
        assert [s.student_id for s in g.students()] == ["a", "b"]


def test_an_old_per_comparison_calibration_is_not_used(tmp_path):
    """Calibrations stored before the per-probe rule let more strangers in at the size of a
    school: the shipped rule applies until the gallery is calibrated again."""
    path, key = tmp_path / "g.sqlite", tmp_path / "k.key"
    with Gallery.open(path, key, "facenet", 512, create=True) as g:
        g.add_student("a", "Ann", [np.ones(512) / np.sqrt(512)])
        old = Calibration(0.41, 0.01, 100, 10, 0.0, "2026-01-01T00:00:00+00:00")
        g.set_calibration(old)
        rule, source = effective_rule(Settings(), g)
        assert rule.threshold != 0.41 and "predates" in source
        g.set_calibration(
            Calibration(0.28, 0.01, 100, 10, 0.0, "2026-01-02T00:00:00+00:00", 0.02, "per-probe")
        )
        rule, source = effective_rule(Settings(), g)
        assert (rule.threshold, rule.margin) == (0.28, 0.02) and "calibration" in source
