"""Liveness verdicts and the random challenge, on landmarks of a real face moved in time."""

from __future__ import annotations

import numpy as np
import pytest

from facegate.config.liveness import LivenessConfig
from facegate.liveness.blinks import Blink
from facegate.liveness.challenge import Challenge, draw_challenge, prompt_text, replay_blinks
from facegate.liveness.verdict import LivenessCheck
from facegate.vision.ear import eyes_aspect_ratio
from tests.synthetic_face import live_face, photo_face, real_face, sample, with_ear


@pytest.fixture(scope="module")
def face(demo_photos: dict[str, np.ndarray]) -> np.ndarray:
    return real_face(demo_photos)


def run(check: LivenessCheck, samples) -> tuple:
    for s in samples:
        verdict = check.add(s)
        if verdict is not None:
            return verdict
    return check.expire(s.t)


def test_helper_changes_the_ear(face: np.ndarray) -> None:
    open_ear = np.mean(eyes_aspect_ratio(face))
    assert np.mean(eyes_aspect_ratio(with_ear(face, 0.3))) == pytest.approx(0.3 * open_ear, 0.05)


def test_live_face_that_blinks_is_live(face: np.ndarray) -> None:
    p = LivenessConfig(challenge=False)
    verdict = run(LivenessCheck(0.0, p), live_face(face, [1.5], 4.0))
    assert verdict.outcome == "live"
    assert verdict.reasons == ("live",)
    assert verdict.at == pytest.approx(1.75, abs=0.1)
    ev = verdict.evidence
    assert len(ev["blinks"]) == 1
    assert ev["ear_baseline"] and ev["ear_min"] < 0.5 * ev["ear_baseline"][0]
    assert ev["pitch_range"] and ev["yaw_range"]
    assert "landmarks" not in str(ev)


def test_photo_in_a_hand_is_a_spoof_before_the_time_is_up(face: np.ndarray) -> None:
    p = LivenessConfig(timeout_s=8.0)
    verdict = run(LivenessCheck(0.0, p), photo_face(face, 8.0))
    assert verdict.outcome == "spoof"
    assert verdict.reasons == ("spoof_static",)
    assert verdict.at < 4.0
    assert verdict.evidence["static"]["nonrigid"] < p.static_nonrigid


def test_live_face_without_a_blink_times_out_and_is_not_called_a_spoof(face: np.ndarray) -> None:
    p = LivenessConfig(timeout_s=4.0)
    verdict = run(LivenessCheck(0.0, p), live_face(face, [], 5.0))
    assert verdict.outcome == "timeout"
    assert verdict.reasons == ("no_blink",)


def test_expire_waits_for_nothing_after_the_deadline(face: np.ndarray) -> None:
    check = LivenessCheck(0.0, LivenessConfig(timeout_s=2.0))
    verdict = check.expire(2.5)
    assert verdict.outcome == "timeout"
    assert check.add(sample(face, 3.0)) is verdict


def test_expire_with_the_eyes_closed_decides_anyway(face: np.ndarray) -> None:
    """Eyes shut at the deadline (a photo of closed eyes, a long closure): still one verdict."""
    check = LivenessCheck(0.0, LivenessConfig(timeout_s=2.0, challenge=False))
    for s in live_face(face, [], 1.0):
        assert check.add(s) is None
    closed = with_ear(face, 0.2)
    for i in range(30):
        verdict = check.add(sample(closed, 1.0 + i / 30))
    assert verdict is None or verdict.outcome == "timeout"
    final = check.expire(2.0)
    assert final.outcome == "timeout" and final.reasons == ("no_blink",)
    # Held closed well past the deadline, the attempt ends by itself too.
    check2 = LivenessCheck(0.0, LivenessConfig(timeout_s=2.0, challenge=False))
    for s in live_face(face, [], 1.0):
        check2.add(s)
    verdicts = [check2.add(sample(closed, 1.0 + i / 30)) for i in range(90)]
    assert any(v is not None and v.outcome == "timeout" for v in verdicts)


@pytest.mark.parametrize(
    "asked,blinks,outcome",
    [
        (1, [2.0], "live"),
        (2, [2.0, 3.0], "live"),
        (3, [2.0, 3.0, 4.0], "live"),
        (1, [2.0, 2.6], "timeout"),
        (2, [2.0], "timeout"),
        (2, [], "timeout"),
    ],
)
def test_challenge_counts_blinks_in_the_window(face, asked, blinks, outcome) -> None:
    challenge = Challenge(asked, start=1.0, window_s=5.0, settle_s=0.8)
    verdict = run(LivenessCheck(1.0, LivenessConfig(), challenge), live_face(face, blinks, 7.0))
    assert verdict.outcome == outcome
    if outcome == "timeout":
        assert verdict.reasons[0] in ("challenge_failed", "no_blink")
    assert verdict.evidence["challenge"]["blinks"] == asked


def test_blinks_before_the_prompt_do_not_count(face: np.ndarray) -> None:
    challenge = Challenge(1, start=2.0, window_s=3.0, settle_s=0.5)
    verdict = run(LivenessCheck(2.0, LivenessConfig(), challenge), live_face(face, [1.0], 6.0))
    assert verdict.outcome == "timeout"
    assert verdict.reasons == ("no_blink",)


def _blink(at: float) -> Blink:
    return Blink(at - 0.05, at + 0.15, at, at + 0.1, 0.6, 0.1, 0.1, 0.3, 0.3)


def test_challenge_outcome_rules() -> None:
    c = Challenge(2, start=10.0, window_s=5.0, settle_s=1.0)
    assert c.outcome([_blink(9.0), _blink(11.0)], 16.0) == "too_few"
    assert c.outcome([_blink(11.0), _blink(12.0)], 12.5) is None  # still settling
    assert c.outcome([_blink(11.0), _blink(12.0)], 13.2) == "passed"
    assert c.outcome([_blink(11.0), _blink(12.0), _blink(12.5)], 12.7) == "too_many"
    assert c.outcome([_blink(11.0), _blink(14.95)], 15.2) == "too_few"  # reopened too late
    assert c.outcome([], 15.0) == "none"


def test_replayed_recording_passes_only_at_the_right_moment() -> None:
    recording = [_blink(1.0), _blink(3.0), _blink(3.8)]
    # One blink asked: the first blink, then 0.8 s without one, passes.
    assert replay_blinks(recording, Challenge(1, 0.5, 4.0, 0.8)) == "passed"
    assert replay_blinks(recording, Challenge(1, 2.5, 4.0, 0.8)) == "too_many"
    assert replay_blinks(recording, Challenge(2, 2.5, 4.0, 0.8)) == "passed"
    assert replay_blinks(recording, Challenge(1, 0.0, 2.0, 0.8)) == "passed"


def test_drawn_challenges_cover_the_range_and_use_the_prompt_time() -> None:
    p = LivenessConfig()
    drawn = [draw_challenge(5.0, p) for _ in range(300)]
    assert {c.blinks for c in drawn} == {1, 2, 3}
    assert all(c.start == 5.0 and c.window_s == p.challenge_window_s for c in drawn)
    one = LivenessConfig(challenge_min_blinks=2, challenge_max_blinks=2)
    assert {draw_challenge(0.0, one).blinks for _ in range(20)} == {2}


def test_prompt_text_says_how_many_times() -> None:
    assert prompt_text(Challenge(1, 0.0, 5.0, 0.5)) == "Blink once now"
    assert prompt_text(Challenge(3, 0.0, 5.0, 0.5)) == "Blink 3 times now"


def test_inconsistent_params_are_refused() -> None:
    with pytest.raises(ValueError, match="closed_ratio"):
        LivenessConfig(closed_ratio=0.9, open_ratio=0.8)
    with pytest.raises(ValueError, match="challenge_min_blinks"):
        LivenessConfig(challenge_min_blinks=3, challenge_max_blinks=2)


def test_liveness_section_of_the_config_is_validated() -> None:
    from facegate.config import settings_from_dict
    from facegate.errors import ConfigError

    assert settings_from_dict({"liveness": {"timeout_s": 5}}).liveness.timeout_s == 5.0
    with pytest.raises(ConfigError, match=r"liveness\.max_closed_s"):
        settings_from_dict({"liveness": {"max_closed_s": -1}})
    with pytest.raises(ConfigError, match=r"liveness\.blink_threshold: unknown key"):
        settings_from_dict({"liveness": {"blink_threshold": 0.2}})
    with pytest.raises(ConfigError, match="challenge_min_blinks"):
        settings_from_dict({"liveness": {"challenge_min_blinks": 3, "challenge_max_blinks": 1}})
