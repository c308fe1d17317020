"""The blink detector on synthetic EAR series: the edge cases the papers' fixed threshold misses."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from facegate.config.liveness import LivenessConfig
from facegate.liveness.blinks import BlinkDetector
from facegate.liveness.eye_frame import EyeFrame

# A blink's closing and reopening, as a share of the baseline, over its ~200 ms.
BLINK_SHAPE = [(0.0, 1.0), (0.04, 0.55), (0.08, 0.35), (0.12, 0.4), (0.16, 0.6), (0.22, 0.85)]


def series(
    duration: float,
    fps: float,
    baseline: float = 0.30,
    dips: tuple = (),
    noise: float = 0.005,
    seed: int = 0,
    times: np.ndarray | None = None,
) -> list[EyeFrame]:
    """Frames at ``fps`` (or at ``times``) with each dip ``(start, shape, eye, pitch, jump)``.

    ``shape`` is a list of (offset s, share of baseline) points, linearly interpolated; ``eye``
    is "both", "right" or "left"; pitch and jump are added during the dip.
    """
    rng = np.random.default_rng(seed)
    ts = np.arange(0.0, duration, 1.0 / fps) if times is None else times
    out = []
    for t in ts:
        right = left = 1.0
        pitch = jump = 0.0
        for start, shape, eye, dip_pitch, dip_jump in dips:
            offsets = [o for o, _ in shape]
            if start <= t <= start + offsets[-1]:
                share = float(np.interp(t - start, offsets, [v for _, v in shape]))
                if eye in ("both", "right"):
                    right = share
                if eye in ("both", "left"):
                    left = share
                pitch, jump = dip_pitch, dip_jump
        out.append(
            EyeFrame(
                float(t),
                baseline * right + rng.normal(0, noise),
                baseline * left + rng.normal(0, noise),
                pitch,
                jump,
            )
        )
    return out


def blink_at(start: float, shape=BLINK_SHAPE, eye: str = "both", pitch=0.0, jump=0.0) -> tuple:
    return (start, shape, eye, pitch, jump)


def run(frames: list[EyeFrame], **params) -> BlinkDetector:
    detector = BlinkDetector(LivenessConfig(**params))
    for f in frames:
        detector.add(f)
    return detector


@pytest.mark.parametrize("fps", [10, 15, 30, 60])
def test_one_blink_is_found_at_any_frame_rate(fps: int) -> None:
    d = run(series(3.0, fps, dips=(blink_at(1.5),)))
    assert len(d.blinks) == 1, d.rejected
    blink = d.blinks[0]
    assert 1.4 <= blink.start <= 1.6
    assert 1.55 <= blink.end <= 1.85
    assert 0.04 <= blink.closed_s <= 0.2
    assert blink.depth > 0.5


def test_blink_reports_both_eyes_and_the_baseline() -> None:
    blink = run(series(3.0, 30, baseline=0.3, dips=(blink_at(1.5),))).blinks[0]
    assert blink.baseline_right == pytest.approx(0.3, abs=0.01)
    assert blink.baseline_left == pytest.approx(0.3, abs=0.01)
    assert blink.min_right < 0.13 and blink.min_left < 0.13
    evidence = blink.as_evidence()
    assert set(evidence) >= {"start", "end", "closed_s", "depth", "min_ear", "baseline_ear"}


def test_low_open_eye_baseline_heavy_lids_or_glasses() -> None:
    """Open eyes at 0.17: below the papers' fixed 0.2, and still no blink until a real one."""
    quiet = run(series(10.0, 30, baseline=0.17, noise=0.004))
    assert quiet.blinks == []
    d = run(series(4.0, 30, baseline=0.17, noise=0.004, dips=(blink_at(2.0),)))
    assert len(d.blinks) == 1


def test_high_open_eye_baseline_blink_that_never_goes_below_a_fixed_threshold() -> None:
    """Wide eyes at 0.42: a blink down to 0.2 would be missed by EAR < 0.2; not here."""
    shape = [(0.0, 1.0), (0.05, 0.6), (0.1, 0.48), (0.15, 0.6), (0.22, 0.9)]
    d = run(series(4.0, 30, baseline=0.42, dips=(blink_at(2.0, shape),)))
    assert len(d.blinks) == 1
    assert d.blinks[0].min_right > 0.19


def test_half_blink_is_not_a_blink() -> None:
    shape = [(0.0, 1.0), (0.05, 0.8), (0.1, 0.72), (0.15, 0.85), (0.2, 1.0)]
    d = run(series(4.0, 30, dips=(blink_at(2.0, shape),)))
    assert d.blinks == []


@pytest.mark.parametrize("closed_s", [0.3, 0.5, 1.5])
def test_long_closure_is_not_a_blink(closed_s: float) -> None:
    shape = [(0.0, 1.0), (0.04, 0.4), (0.06, 0.3), (0.06 + closed_s, 0.3), (0.1 + closed_s, 1.0)]
    d = run(series(4.0, 30, dips=(blink_at(1.5, shape),)))
    assert d.blinks == []
    assert [b.reason for b in d.rejected] and all(b.reason == "long_closure" for b in d.rejected)


def test_a_blink_after_a_long_closure_still_counts() -> None:
    closure = [(0.0, 1.0), (0.04, 0.3), (0.8, 0.3), (0.85, 1.0)]
    d = run(series(5.0, 30, dips=(blink_at(1.0, closure), blink_at(3.0))))
    assert len(d.blinks) == 1
    assert d.blinks[0].start > 2.9


def test_closing_again_right_after_a_long_closure_continues_it() -> None:
    """A squeeze series: eyes half reopen for 0.2 s, then shut briefly; not a blink."""
    closure = [(0.0, 1.0), (0.04, 0.3), (0.5, 0.3), (0.55, 0.85), (0.75, 0.85)]
    frames = series(5.0, 30, dips=(blink_at(1.0, closure), blink_at(1.76)))
    d = run(frames)
    assert d.blinks == []
    assert {b.reason for b in d.rejected} == {"long_closure"}
    assert len(run(frames, closure_refractory_s=0.0).blinks) == 1


def test_wink_is_not_a_blink() -> None:
    assert run(series(4.0, 30, dips=(blink_at(2.0, eye="right"),))).blinks == []
    # A hard wink pulls the mean EAR below the closed level; the open eye still tells.
    hard = [(0.0, 1.0), (0.04, 0.2), (0.08, 0.05), (0.12, 0.1), (0.18, 0.6), (0.22, 1.0)]
    d = run(series(4.0, 30, dips=(blink_at(2.0, hard, eye="left"),)))
    assert d.blinks == []
    assert [b.reason for b in d.rejected] == ["wink"]


def test_looking_down_is_not_a_blink() -> None:
    d = run(series(4.0, 30, dips=(blink_at(2.0, pitch=-20.0),)))
    assert d.blinks == []
    assert [b.reason for b in d.rejected] == ["pitch_change"]


def test_landmark_jump_is_not_a_blink() -> None:
    """A hand over the eyes moves brows and nose points too; the dip is not trusted."""
    d = run(series(4.0, 30, dips=(blink_at(2.0, jump=0.3),)))
    assert d.blinks == []
    assert [b.reason for b in d.rejected] == ["landmarks_jumped"]


def test_jump_is_judged_against_the_faces_usual_jitter() -> None:
    """A photo's landmarks hardly move, so a finger's 0.07 jump stands out; a moving head
    jitters by 0.03 anyway, and the same jump during its blink is tolerated."""

    def with_usual(jitter: float) -> list[EyeFrame]:
        frames = series(4.0, 30, dips=(blink_at(2.0, jump=0.07),))
        rng = np.random.default_rng(1)
        return [
            f if f.jump else replace(f, jump=abs(rng.normal(jitter, jitter / 4))) for f in frames
        ]

    still = run(with_usual(0.01))
    assert still.blinks == [] and [b.reason for b in still.rejected] == ["landmarks_jumped"]
    assert len(run(with_usual(0.03)).blinks) == 1


def test_slow_narrowing_of_a_smile_is_not_a_blink() -> None:
    shape = [(0.0, 1.0), (0.4, 0.5), (0.5, 0.5), (0.55, 1.0)]
    d = run(series(4.0, 30, dips=(blink_at(2.0, shape),)))
    assert d.blinks == []


def test_landmark_jitter_makes_no_blink_in_a_minute() -> None:
    d = run(series(60.0, 30, noise=0.02, seed=3))
    assert d.blinks == []


def test_single_frame_spike_is_jitter() -> None:
    """One sample at 40 % of the baseline between two open ones at 30 fps: too short."""
    shape = [(0.0, 1.0), (0.03, 0.4), (0.06, 1.0)]
    d = run(series(4.0, 30, noise=0.0, dips=(blink_at(2.005, shape),)))
    assert d.blinks == []


def test_dropped_frames_inside_a_dip_are_not_judged() -> None:
    frames = series(4.0, 30, dips=(blink_at(2.0),))
    kept = [f for f in frames if not 2.05 < f.t < 2.35]
    d = run(kept)
    assert d.blinks == []
    assert [b.reason for b in d.rejected] == ["frames_missing"]


def test_dropped_frames_outside_a_dip_do_not_matter() -> None:
    frames = series(5.0, 30, dips=(blink_at(3.0),))
    kept = [f for f in frames if not 1.0 < f.t < 1.6]
    assert len(run(kept).blinks) == 1


def test_irregular_timestamps() -> None:
    rng = np.random.default_rng(7)
    times = np.cumsum(rng.uniform(0.02, 0.06, size=150))
    d = run(series(0, 0, dips=(blink_at(2.5),), times=times))
    assert len(d.blinks) == 1


def test_three_blinks_are_counted_separately() -> None:
    d = run(series(6.0, 30, dips=(blink_at(1.5), blink_at(2.5), blink_at(3.5))))
    assert len(d.blinks) == 3


def test_baseline_follows_a_lasting_change_of_expression() -> None:
    """A smile lowers the open-eye EAR for seconds; a blink during it is still found."""
    smile = [(0.0, 1.0), (0.3, 0.7), (4.0, 0.7), (4.3, 1.0)]
    blink_in_smile = [(0.0, 0.7), (0.04, 0.38), (0.08, 0.25), (0.12, 0.3), (0.18, 0.6), (0.24, 0.7)]
    d = run(series(8.0, 30, dips=(blink_at(1.0, smile), blink_at(3.5, blink_in_smile))))
    assert len(d.blinks) == 1
    assert 3.4 < d.blinks[0].start < 3.7


def test_samples_out_of_order_are_refused() -> None:
    d = BlinkDetector()
    d.add(EyeFrame(1.0, 0.3, 0.3))
    with pytest.raises(ValueError, match="out of order"):
        d.add(EyeFrame(0.5, 0.3, 0.3))


def test_no_baseline_before_enough_history() -> None:
    d = BlinkDetector(LivenessConfig(min_history_s=0.5))
    d.add(EyeFrame(0.0, 0.3, 0.3))
    assert d.baseline() is None
    for i in range(1, 20):
        d.add(EyeFrame(i / 30, 0.3, 0.3))
    assert d.baseline() == pytest.approx((0.3, 0.3))
