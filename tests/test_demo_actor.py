"""The demo's synthesised live actor: a real portrait that moves and blinks as dlib sees it.

Frames go through the door's own path (Haar tracker, dlib's 68 landmarks, blink detector,
static-face check, challenge), as ``facegate eval liveness`` runs a clip.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from facegate.config.liveness import LivenessConfig
from facegate.demo.actor import CLOSE_S, HOLD_S, OPEN_S, PortraitActor, lid_closure, photo_landmarks
from facegate.errors import FacegateError
from facegate.evaluation.liveness import detect_blinks, new_tracker, track
from facegate.liveness.challenge import Challenge
from facegate.liveness.verdict import LivenessCheck, LivenessVerdict
from facegate.vision.tracker import FaceTracker

FPS = 15.0
PARAMS = LivenessConfig()


@pytest.fixture(scope="module")
def tracker() -> FaceTracker:
    return new_tracker()


@pytest.fixture(scope="module")
def faces(demo_photos: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each demo photo with its 68 landmarks, found once."""
    return {k: (demo_photos[k], photo_landmarks(demo_photos[k])) for k in ("astronaut", "hopper")}


def actor(faces: dict, who: str, seed: int) -> PortraitActor:
    photo, landmarks = faces[who]
    return PortraitActor(photo, landmarks, fps=FPS, seed=seed)


def run_check(
    subject: PortraitActor, tracker: FaceTracker, check: LivenessCheck, seconds: float
) -> LivenessVerdict:
    """Feed the actor's frames to a liveness check until it decides or the time is up."""
    seq = track(subject.frames(0.0, seconds), tracker, FPS)
    assert len(seq.samples) == seq.n_frames, "the tracker lost the actor's face"
    for sample in seq.samples:
        verdict = check.add(sample)
        if verdict is not None:
            return verdict
    return check.expire(seconds)


def test_blink_profile_and_response_schedule(faces) -> None:
    assert lid_closure(-0.01) == 0.0 and lid_closure(CLOSE_S + HOLD_S / 2) == 1.0
    assert lid_closure(CLOSE_S / 2) < 0.5 and lid_closure(CLOSE_S + HOLD_S + OPEN_S) == 0.0
    assert 0.25 <= CLOSE_S + HOLD_S + OPEN_S <= 0.4
    subject = actor(faces, "astronaut", seed=5)
    assert subject.respond(0, after=1.0) == []
    times = subject.respond(3, after=2.0)
    assert 2.7 <= times[0] <= 2.8
    assert all(0.7 <= b - a <= 0.9 for a, b in itertools.pairwise(times))
    subject.schedule_blinks([0.5])
    assert subject.blinks == tuple(sorted([0.5, *times]))
    assert subject.respond(3, after=2.0) == times


def test_a_photo_without_a_face_is_refused() -> None:
    with pytest.raises(FacegateError, match="no face"):
        PortraitActor(np.full((240, 320, 3), 128, np.uint8))


def test_frames_are_deterministic_moving_and_door_sized(faces, tracker) -> None:
    subject = actor(faces, "astronaut", seed=1)
    first = subject.frame(1.0)
    assert first.shape == (480, 640, 3) and first.dtype == np.uint8
    assert np.array_equal(first, subject.frame(1.0))
    assert not np.array_equal(first, subject.frame(1.5))
    seq = track(subject.frames(0.0, 1.0), tracker, FPS)
    sizes = [s.box.w for s in seq.samples]
    assert len(sizes) == 15 and 170 <= min(sizes) <= max(sizes) <= 230


def test_scheduled_blinks_are_seen_by_dlib_and_nothing_else(faces, tracker) -> None:
    """Three blinks in 6 s: exactly three detected, each where it was scheduled; the first
    comes after the static check's 2.5 s window, which must not call the actor a photo."""
    subject = actor(faces, "astronaut", seed=1)
    scheduled = [2.9, 4.2, 5.3]
    subject.schedule_blinks(scheduled)
    seq = track(subject.frames(0.0, 6.0), tracker, FPS)
    assert len(seq.samples) == 90
    found = detect_blinks(seq.samples, PARAMS)
    assert len(found.blinks) == 3, [b.as_evidence() for b in found.rejected]
    for blink, at in zip(found.blinks, scheduled, strict=True):
        assert abs(blink.closed_start - at) < 0.15
        assert blink.depth > 0.5 and blink.closed_s < PARAMS.max_closed_s
    check = LivenessCheck(0.0, PARAMS.model_copy(update={"timeout_s": 6.0}))
    verdict = next(v for v in map(check.add, seq.samples) if v is not None)
    assert verdict.outcome == "live" and verdict.at == pytest.approx(3.2, abs=0.2)
    assert verdict.evidence["static"]["nonrigid"] > PARAMS.static_nonrigid


@pytest.mark.parametrize(
    ("who", "seed", "n"),
    [("astronaut", 1, 1), ("astronaut", 3, 2), ("astronaut", 1, 3), ("hopper", 2, 2)],
)
def test_the_random_challenge_is_answered_on_the_fly(faces, tracker, who, seed, n) -> None:
    subject = actor(faces, who, seed)
    prompt = 1.0
    challenge = Challenge(n, prompt, PARAMS.challenge_window_s, PARAMS.challenge_settle_s)
    subject.respond(n, after=prompt)
    check = LivenessCheck(0.0, PARAMS, challenge)
    verdict = run_check(subject, tracker, check, prompt + challenge.window_s)
    assert verdict.outcome == "live", verdict.evidence
    assert challenge.outcome(check.blinks.blinks, verdict.at) == "passed"
    assert len(challenge.counted(check.blinks.blinks)) == n


def test_without_blinks_the_actor_is_never_live(faces, tracker) -> None:
    subject = actor(faces, "astronaut", seed=3)
    check = LivenessCheck(0.0, PARAMS.model_copy(update={"timeout_s": 5.0}))
    verdict = run_check(subject, tracker, check, 5.5)
    assert not verdict.live
    assert verdict.reasons in (("no_blink",), ("spoof_static",))


def test_grace_hopper_blinks_too(faces, tracker) -> None:
    """Glasses and a wrinkled lid make her dips shallower (see the actor's notes): every
    detection is a scheduled blink, and at most one of four is missed."""
    subject = actor(faces, "hopper", seed=2)
    scheduled = [1.0, 2.3, 3.6, 4.9]
    subject.schedule_blinks(scheduled)
    seq = track(subject.frames(0.0, 6.0), tracker, FPS)
    assert len(seq.samples) == 90
    found = detect_blinks(seq.samples, PARAMS).blinks
    assert len(found) >= 3
    assert all(min(abs(b.closed_start - at) for at in scheduled) < 0.15 for b in found)
