import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facegate.identity.calibration import (
    choose_threshold,
    genuine_scores,
    impostor_scores,
    threshold_for_far,
)


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
    imp = impostor_scores(labels, vectors)
    gen = genuine_scores(labels, vectors)
    assert imp.size == 9 and gen.size == 9
    assert imp.min() > 0.8 and gen.max() < 0.05
    choice = choose_threshold(labels, vectors, 0.01)
    assert gen.max() < choice.threshold < imp.min()
    assert choice.far == 0 and choice.frr == 0 and choice.limited_by_sample
