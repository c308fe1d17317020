"""The matcher on synthetic embeddings: clusters on the unit sphere with a known spread."""

import numpy as np
import pytest

from facegate.identity.matcher import EMPTY, NO_CANDIDATES, UNKNOWN, Matcher

DIM = 64


def cluster(centre: np.ndarray, n: int, spread: float, rng) -> np.ndarray:
    x = centre + rng.normal(scale=spread, size=(n, DIM))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def world():
    rng = np.random.default_rng(0)
    centres = {f"s{i}": rng.normal(size=DIM) for i in range(5)}
    centres = {k: v / np.linalg.norm(v) for k, v in centres.items()}
    labels, vectors = [], []
    for sid, c in centres.items():
        vectors.append(cluster(c, 6, 0.05, rng))
        labels += [sid] * 6
    stranger = rng.normal(size=DIM)
    return centres, labels, np.vstack(vectors), stranger / np.linalg.norm(stranger), rng


def test_svm_names_enrolled_people_and_rejects_a_stranger(world):
    centres, labels, vectors, stranger, rng = world
    m = Matcher(labels, vectors, threshold=0.35)
    assert m.method == "svm"
    for sid, c in centres.items():
        match = m.identify(cluster(c, 1, 0.05, rng)[0])
        assert match.accepted and match.student_id == sid
        assert match.probability is not None and 0 < match.probability <= 1
    match = m.identify(stranger)
    assert match.reason == UNKNOWN and match.student_id is None
    assert match.candidate_id in centres  # the SVM always names someone...
    assert match.distance > 0.35  # ...the distance refuses it


def test_candidates_limit_the_search(world):
    centres, labels, vectors, _, rng = world
    m = Matcher(labels, vectors, threshold=0.35)
    probe = cluster(centres["s1"], 1, 0.05, rng)[0]
    assert m.identify(probe, candidates=["s1", "s2"]).student_id == "s1"
    # s1 is not on this roster: the best roster candidate is far, so the face is unknown.
    off = m.identify(probe, candidates=["s2", "s3"])
    assert off.reason == UNKNOWN and off.candidate_id in {"s2", "s3"}
    assert m.identify(probe, candidates=["nobody"]).reason == NO_CANDIDATES


def test_small_galleries_fall_back_to_the_nearest_centroid(world):
    centres, labels, vectors, stranger, rng = world
    one = Matcher(labels[:6], vectors[:6], threshold=0.35)
    assert one.method == "nearest"
    assert one.identify(cluster(centres["s0"], 1, 0.05, rng)[0]).student_id == "s0"
    assert one.identify(stranger).reason == UNKNOWN
    single_templates = Matcher(["a", "b"], vectors[[0, 6]], threshold=0.35)
    assert single_templates.method == "nearest"


def test_empty_gallery():
    m = Matcher([], np.zeros((0, DIM)), threshold=0.35)
    assert m.identify(np.ones(DIM) / 8).reason == EMPTY


def test_threshold_is_inclusive_and_centroid_based():
    a = np.eye(3)[0]
    labels = ["a", "a"]
    vectors = np.array([[1.0, 0.2, 0.0], [1.0, -0.2, 0.0]])
    m = Matcher(labels, vectors, threshold=0.0)
    # The centroid of the two templates is exactly the x axis.
    assert m.distances(a)["a"] == pytest.approx(0.0, abs=1e-6)
    assert m.identify(a).accepted


def test_labels_and_embeddings_must_agree():
    with pytest.raises(ValueError):
        Matcher(["a"], np.zeros((2, DIM)), 0.3)
