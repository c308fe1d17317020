import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facegate.identity.calibration import (
    choose_threshold,
    open_set_scores,
    threshold_for_far,
)
from facegate.identity.matcher import ACCEPTED, Matcher, OpenSetRule


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.0, 2.0, allow_nan=False), min_size=1, max_size=300),
    st.floats(0.0, 0.5),
)
def test_threshold_never_exceeds_the_target_far(scores, target):
    threshold, limited = threshold_for_far(np.array(scores), target)
    far = np.mean(np.array(scores) <= threshold)
    assert far <= target + 1e-12
    assert limited == (len(scores) * target < 1)


def test_threshold_sits_just_below_the_closest_impostor_when_samples_are_few():
    t, limited = threshold_for_far(np.array([0.5, 0.6, 0.7]), 0.001)
    assert limited and t < 0.5 and t == pytest.approx(0.5)


def test_bad_targets():
    with pytest.raises(ValueError):
        threshold_for_far(np.array([0.5]), 1.0)
    with pytest.raises(ValueError):
        threshold_for_far(np.array([]), 0.01)


def test_scores_on_two_tight_clusters():
    rng = np.random.default_rng(1)
    a, b = np.eye(16)[0], np.eye(16)[1]
    va = a + rng.normal(scale=0.02, size=(5, 16))
    vb = b + rng.normal(scale=0.02, size=(4, 16))
    labels = ["a"] * 5 + ["b"] * 4
    vectors = np.vstack([va, vb])
    scores = open_set_scores(labels, vectors, margin=0.0)
    assert scores.impostor.size == 9 and scores.genuine.size == 9
    assert scores.impostor.min() > 0.8 and scores.genuine.max() < 0.05
    choice = choose_threshold(labels, vectors, 0.01)
    assert scores.genuine.max() < choice.threshold < scores.impostor.min()
    assert choice.far == 0 and choice.frr == 0 and choice.limited_by_sample


def _population(rng, people=60, per=5, dim=32, spread=0.35):
    centres = rng.normal(size=(people, dim))
    labels, vectors = [], []
    for i, c in enumerate(centres):
        v = c / np.linalg.norm(c) + rng.normal(scale=spread / np.sqrt(dim), size=(per, dim))
        vectors.append(v)
        labels += [f"p{i:03d}"] * per
    return labels, np.vstack(vectors)


@pytest.mark.parametrize("margin", [0.0, 0.03])
def test_stranger_scores_are_what_the_matcher_decides(margin):
    """Each stranger score is the matcher's own decision for that face with its student left
    out: calibration and door cannot disagree."""
    rng = np.random.default_rng(7)
    labels, vectors = _population(rng, people=12)
    scores = open_set_scores(labels, vectors, margin)
    lab = np.array(labels)
    k = 0
    for person in sorted(set(labels)):
        others = lab != person
        for t in (0.2, 0.5, 0.8):
            m = Matcher(list(lab[others]), vectors[others], OpenSetRule(t, margin))
            accepted = [m.identify(v).reason == ACCEPTED for v in vectors[~others]]
            mine = scores.impostor[k : k + int((~others).sum())]
            assert accepted == list(mine <= t)
        k += int((~others).sum())


def test_per_probe_calibration_is_stricter_than_per_comparison_in_a_big_gallery():
    """A stranger meets every student; the old per-comparison FAR let ~N times more in."""
    rng = np.random.default_rng(2)
    labels, vectors = _population(rng, people=80)
    per_probe = choose_threshold(labels, vectors, 0.01).threshold
    names = sorted(set(labels))
    lab = np.array(labels)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cents = np.array([unit[lab == n].mean(0) for n in names])
    cents /= np.linalg.norm(cents, axis=1, keepdims=True)
    d = 1 - unit @ cents.T
    per_comparison = np.sort(d[lab[:, None] != np.array(names)[None, :]])
    old = per_comparison[int(0.01 * per_comparison.size)]
    assert per_probe < old
    # At the old threshold, far more than 1% of strangers would be let in.
    assert np.mean(open_set_scores(labels, vectors, 0.0).impostor <= old) > 0.05


def test_a_margin_only_refuses():
    rng = np.random.default_rng(4)
    labels, vectors = _population(rng, people=30)
    plain = open_set_scores(labels, vectors, 0.0)
    strict = open_set_scores(labels, vectors, 0.05)
    assert np.all(strict.impostor >= plain.impostor) and np.all(strict.genuine >= plain.genuine)
    assert np.isinf(strict.impostor).sum() > 0
