"""The matcher on synthetic embeddings: clusters on the unit sphere with a known spread."""

import threading

import numpy as np
import pytest

from facegate.identity.matcher import (
    ACCEPTED,
    EMPTY,
    NOT_A_CANDIDATE,
    UNKNOWN,
    Matcher,
    OpenSetRule,
    centroids,
    group_sums,
)

DIM = 64
RULE = OpenSetRule(0.35)


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


def test_names_enrolled_people_and_rejects_a_stranger(world):
    centres, labels, vectors, stranger, rng = world
    m = Matcher(labels, vectors, RULE)
    for sid, c in centres.items():
        match = m.identify(cluster(c, 1, 0.05, rng)[0])
        assert match.accepted and match.student_id == sid == match.nearest_id
        assert match.distance < 0.2 and match.margin > 0.5
    match = m.identify(stranger)
    assert match.reason == UNKNOWN and match.student_id is None
    assert match.candidate_id in centres  # the nearest is always named...
    assert match.distance > 0.35  # ...the distance refuses it


def test_candidates_say_who_may_be_accepted(world):
    centres, labels, vectors, _, rng = world
    m = Matcher(labels, vectors, RULE)
    probe = cluster(centres["s1"], 1, 0.05, rng)[0]
    assert m.identify(probe, candidates=["s1", "s2"]).student_id == "s1"
    # s1 is enrolled but not on this roster: the face is s1, not the roster's best.
    off = m.identify(probe, candidates=["s2", "s3"])
    assert off.reason == NOT_A_CANDIDATE and off.student_id is None
    assert off.nearest_id == "s1" and off.candidate_id in {"s2", "s3"}
    assert off.nearest_distance < 0.2 < off.distance
    # No candidate enrolled: the gallery still names the face (a student of another exam).
    for nobody in (["nobody"], []):
        none = m.identify(probe, candidates=nobody)
        assert none.reason == NOT_A_CANDIDATE and none.student_id is None
        assert none.nearest_id == "s1"
    stranger = -centres["s1"]
    assert m.identify(stranger, candidates=[]).reason == UNKNOWN


def test_a_look_alike_on_the_roster_is_refused_when_the_gallery_names_someone_else():
    """The attack of issue 15: B is enrolled (another exam); A, on this exam's roster, looks
    enough like B that B's face is within the threshold of A. Searching the roster alone
    accepted B as A (0.32 <= 0.35); the whole gallery names B (0.06)."""
    rng = np.random.default_rng(5)
    a = rng.normal(size=DIM)
    a /= np.linalg.norm(a)
    noise = rng.normal(size=DIM)
    noise -= (noise @ a) * a
    noise /= np.linalg.norm(noise)
    # B's direction at cosine distance ~0.30 from A.
    b = 0.70 * a + np.sqrt(1 - 0.70**2) * noise
    labels = ["A"] * 5 + ["B"] * 5
    vectors = np.vstack([cluster(a, 5, 0.01, rng), cluster(b, 5, 0.01, rng)])
    m = Matcher(labels, vectors, RULE)
    probe = cluster(b, 1, 0.01, rng)[0]  # B at the door of A's exam
    assert m.distances(probe)["A"] <= RULE.threshold  # the roster-only search would accept
    roster = m.identify(probe, candidates=["A"])
    assert not roster.accepted and roster.student_id is None
    assert roster.reason == NOT_A_CANDIDATE and roster.nearest_id == "B"
    # A herself still gets in.
    assert m.identify(cluster(a, 1, 0.01, rng)[0], candidates=["A"]).student_id == "A"


def test_margin_refuses_a_face_between_two_students(world):
    centres, labels, vectors, _, rng = world
    between = centres["s0"] + centres["s1"]
    between /= np.linalg.norm(between)
    loose = OpenSetRule(0.9, 0.0)
    assert Matcher(labels, vectors, loose).identify(between).accepted
    strict = Matcher(labels, vectors, OpenSetRule(0.9, 0.05))
    match = strict.identify(between)
    assert match.reason == UNKNOWN and match.margin < 0.05
    # A clear face passes the same margin.
    assert strict.identify(cluster(centres["s2"], 1, 0.05, rng)[0]).accepted


def test_one_student_gallery(world):
    centres, labels, vectors, stranger, rng = world
    one = Matcher(labels[:6], vectors[:6], OpenSetRule(0.35, 0.1))
    assert one.identify(cluster(centres["s0"], 1, 0.05, rng)[0]).student_id == "s0"
    assert one.identify(stranger).reason == UNKNOWN


def test_empty_gallery():
    m = Matcher([], np.zeros((0, DIM)), RULE)
    assert m.identify(np.ones(DIM) / 8).reason == EMPTY


def test_threshold_is_inclusive_and_centroid_based():
    a = np.eye(3)[0]
    vectors = np.array([[1.0, 0.2, 0.0], [1.0, -0.2, 0.0]])
    m = Matcher(["a", "a"], vectors, OpenSetRule(1e-6))
    # The centroid of the two templates is exactly the x axis.
    assert m.distances(a)["a"] == pytest.approx(0.0, abs=1e-6)
    assert m.identify(a).accepted


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="differ in length"):
        Matcher(["a"], np.zeros((2, DIM)), RULE)
    with pytest.raises(ValueError, match="finite"):
        Matcher(["a"], np.full((1, DIM), np.nan), RULE)
    m = Matcher(["a", "b"], np.eye(DIM)[:2], RULE)
    with pytest.raises(ValueError, match="64-D"):
        m.identify(np.ones(DIM + 1))
    with pytest.raises(ValueError, match="finite"):
        m.identify(np.full(DIM, np.inf))
    for bad in (0.0, 2.0, -0.1):
        with pytest.raises(ValueError, match="threshold"):
            OpenSetRule(bad)
    with pytest.raises(ValueError, match="margin"):
        OpenSetRule(0.3, -0.01)


def test_a_built_matcher_cannot_be_changed(world):
    _, labels, vectors, _, _ = world
    m = Matcher(labels, vectors, RULE)
    with pytest.raises(ValueError):
        m._centroids[0, 0] = 1.0
    with pytest.raises(AttributeError):
        m.classes.append("x")  # type: ignore[attr-defined]
    vectors[:] = 0.0  # the caller's array is not the matcher's
    assert np.isfinite(m._centroids).all() and np.abs(m._centroids).sum() > 0


def test_centroids_are_the_mean_direction_of_each_students_templates():
    rng = np.random.default_rng(3)
    owner = rng.integers(0, 40, 400)
    rows = rng.normal(size=(400, 8))
    expected = np.zeros((40, 8))
    np.add.at(expected, owner, rows)
    present = np.unique(owner)
    assert np.allclose(group_sums(owner, rows, 40)[present], expected[present])
    labels = [f"p{i:02d}" for i in owner]
    names, cents = centroids(labels, rows)
    assert names == sorted(set(labels))
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    for i, name in enumerate(names):
        mean = unit[np.array(labels) == name].mean(axis=0)
        assert np.allclose(cents[i], mean / np.linalg.norm(mean), atol=1e-5)


def test_identify_from_many_threads_while_a_new_matcher_is_built(world):
    """The door's reload: a new matcher is built in a worker thread; the old one keeps
    answering the same way meanwhile."""
    centres, labels, vectors, _, rng = world
    old = Matcher(labels, vectors, RULE)
    probes = [cluster(c, 1, 0.05, rng)[0] for c in centres.values()]
    expected = [old.identify(p).student_id for p in probes]
    built: list[Matcher] = []
    answers: list[list[str | None]] = []

    def build() -> None:
        big_labels = labels + [f"x{i}" for i in range(2000)]
        big = np.vstack([vectors, rng.normal(size=(2000, DIM))])
        built.append(Matcher(big_labels, big, RULE))

    def ask() -> None:
        for _ in range(50):
            answers.append([old.identify(p).student_id for p in probes])

    threads = [threading.Thread(target=build)] + [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a == expected for a in answers) and len(answers) == 150
    assert len(built[0]) == 2005 and len(old) == 5
    assert built[0].identify(probes[0]).reason == ACCEPTED


def test_the_threshold_falls_with_the_number_of_students_who_may_be_accepted():
    """More candidates, more chances for a stranger: a face 0.30 from its student passes on a
    roster of 10 and not when any of 2,000 students could be named."""
    rule = OpenSetRule(0.24, 0.0, slope=0.045, reference_size=300)
    assert rule.threshold_for(300) == pytest.approx(0.24)
    assert rule.threshold_for(10) == pytest.approx(0.24 + 0.045 * np.log(30))
    assert rule.threshold_for(3) == rule.threshold_for(10)  # no growth below 10 students
    assert rule.threshold_for(2000) < 0.16
    assert OpenSetRule(0.3).threshold_for(10**6) == 0.3  # no slope: fixed
    capped = OpenSetRule(0.24, 0.0, slope=0.045, reference_size=300, max_threshold=0.35)
    assert capped.threshold_for(10) == 0.35 and capped.threshold_for(300) == pytest.approx(0.24)
    rng = np.random.default_rng(11)
    a = rng.normal(size=DIM)
    a /= np.linalg.norm(a)
    others = rng.normal(size=(1999, DIM))
    labels = ["A"] * 3 + [f"x{i}" for i in range(1999)]
    m = Matcher(labels, np.vstack([np.tile(a, (3, 1)), others]), rule)
    side = rng.normal(size=DIM)
    side -= (side @ a) * a
    side /= np.linalg.norm(side)
    probe = 0.70 * a + np.sqrt(1 - 0.70**2) * side  # cosine distance 0.30 from A
    small = m.identify(probe, candidates=["A"] + [f"x{i}" for i in range(9)])
    assert small.accepted and small.threshold > 0.30
    whole = m.identify(probe)
    assert whole.reason == UNKNOWN and whole.threshold < 0.30 and whole.nearest_id == "A"
