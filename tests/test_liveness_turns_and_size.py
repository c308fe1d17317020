"""Issue 11's liveness findings: blinks made while the head turns were refused, and a small
face's landmark jitter made blinks. Plain EAR series for the rules, then the demo actor's
rendered face through the door's own path (Haar tracker, dlib, blink detector)."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from facegate.config.liveness import LivenessConfig
from facegate.demo.actor import PortraitActor, photo_landmarks
from facegate.evaluation.liveness import detect_blinks, new_tracker, track
from facegate.liveness.eye_frame import EyeFrame
from facegate.liveness.verdict import LivenessCheck
from tests.test_blink_detector import blink_at, run, series

FPS = 15.0


def sized(frames: list[EyeFrame], px: float) -> list[EyeFrame]:
    return [replace(f, face_px=px) for f in frames]


def turning(frames: list[EyeFrame], start: float, seconds: float, pitch: float, jump: float):
    """The head turns by ``pitch`` degrees from ``start`` over ``seconds`` (steadily), its
    jaw, brows and nose jumping ``jump`` per frame meanwhile, and stays turned."""
    out = []
    for f in frames:
        u = float(np.clip((f.t - start) / seconds, 0.0, 1.0))
        moving = 0.0 < u < 1.0
        out.append(replace(f, pitch=f.pitch + u * pitch, jump=jump if moving else 0.01))
    return out


def test_a_small_face_gives_no_blink_evidence() -> None:
    frames = series(4.0, 30, dips=(blink_at(2.0),))
    assert len(run(sized(frames, 200.0)).blinks) == 1
    small = run(sized(frames, 100.0))
    assert small.blinks == []
    assert small.small_frames == small.frames == len(frames)
    # The size limit is what refuses it: without one the same dip is a blink.
    assert len(run(sized(frames, 100.0), min_face_px=0).blinks) == 1


def test_a_dip_next_to_a_small_frame_is_refused() -> None:
    frames = sized(series(4.0, 30, dips=(blink_at(2.0),)), 200.0)
    frames = [replace(f, face_px=110.0) if 1.96 < f.t < 2.0 else f for f in frames]
    d = run(frames)
    assert d.blinks == []
    assert [b.reason for b in d.rejected] == ["face_too_small"]


@pytest.mark.parametrize("pitch", [-20.0, 20.0])
def test_a_blink_while_the_head_nods_is_counted(pitch: float) -> None:
    """The head pitches 20 degrees over 0.6 s (its landmarks jumping 5x their rest) and
    blinks on the way: refused as pitch_change before, a blink now."""
    frames = turning(series(4.0, 30, dips=(blink_at(2.0),)), 1.85, 0.6, pitch, 0.05)
    d = run(frames)
    assert len(d.blinks) == 1, d.rejected


def test_a_glance_down_and_back_is_still_not_a_blink() -> None:
    """The pitch leaves the range between before and after the dip and returns."""
    d = run(series(4.0, 30, dips=(blink_at(2.0, pitch=-20.0),)))
    assert d.blinks == [] and [b.reason for b in d.rejected] == ["pitch_change"]


def test_a_turn_beyond_the_limit_is_not_a_blink() -> None:
    frames = turning(series(4.0, 30, dips=(blink_at(2.0),)), 1.9, 0.4, 40.0, 0.02)
    d = run(frames)
    assert d.blinks == [] and [b.reason for b in d.rejected] == ["pitch_change"]


def test_a_finger_jump_on_a_still_head_is_still_refused() -> None:
    d = run(series(4.0, 30, dips=(blink_at(2.0, jump=0.07),)))
    assert d.blinks == [] and [b.reason for b in d.rejected] == ["landmarks_jumped"]


# -- the demo actor, rendered and tracked --------------------------------------------------


@pytest.fixture(scope="module")
def astronaut(demo_photos: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    photo = demo_photos["astronaut"]
    return photo, photo_landmarks(photo)


@pytest.mark.parametrize(
    ("yaw", "pitch", "seconds"), [(45.0, 0.0, 0.4), (0.0, 20.0, 0.6), (0.0, -20.0, 0.8)]
)
@pytest.mark.parametrize("seed", [0, 1])
def test_the_actors_blink_during_a_head_turn_is_counted(
    astronaut, yaw: float, pitch: float, seconds: float, seed: int
) -> None:
    """A fast turn (45 degrees in 0.4 s: landmarks_jumped before) and a nod up or down
    (pitch_change before), each with a blink half way."""
    photo, landmarks = astronaut
    actor = PortraitActor(photo, landmarks, fps=FPS, seed=seed)
    actor.schedule_turn(1.8, seconds, yaw_deg=yaw, pitch_deg=pitch)
    actor.schedule_blinks([1.8 + seconds / 2 - 0.08])
    seq = track(actor.frames(0.0, 3.5), new_tracker(), FPS)
    d = detect_blinks(seq.samples, LivenessConfig())
    assert len(d.blinks) == 1, [(b.start, b.reason) for b in d.rejected]
    assert abs(d.blinks[0].start - actor.blinks[0]) < 0.15


def test_the_actor_blinking_at_100_px_is_asked_to_come_closer(astronaut) -> None:
    photo, landmarks = astronaut
    actor = PortraitActor(photo, landmarks, fps=FPS, seed=3, face_px=100.0)
    actor.schedule_blinks([1.5, 3.0])
    seq = track(actor.frames(0.0, 4.5), new_tracker(), FPS)
    assert len(seq.samples) == seq.n_frames
    assert max(s.box.w for s in seq.samples) < LivenessConfig().min_face_px
    # Without the limit its blinks would count.
    assert len(detect_blinks(seq.samples, LivenessConfig(min_face_px=0)).blinks) >= 1
    check = LivenessCheck(0.0, LivenessConfig(challenge=False, timeout_s=4.0))
    verdicts = [check.add(s) for s in seq.samples]
    verdict = next((v for v in verdicts if v is not None), None) or check.expire(4.5)
    assert verdict.outcome == "timeout"
    assert verdict.reasons == ("no_blink", "face_too_small")
    assert verdict.evidence["small_face_samples"] == verdict.evidence["samples"] > 50


def test_the_real_door_asks_a_face_too_far_to_come_closer_on_its_amber_led(
    astronaut, pipeline, tmp_path
) -> None:
    """The 100 px actor before the real door (mock pins): the listener hears "come closer"
    while the attempt runs, the amber LED blinks fast, and the attempt still ends refused."""
    from facegate.config import Settings
    from facegate.door import DoorListener, DoorService
    from facegate.hardware.pin_factory import make_pin_factory
    from facegate.identity.gallery import open_configured_gallery
    from facegate.vision.sources.rendered import RenderedSource

    class Heard(DoorListener):
        def __init__(self) -> None:
            self.closer: list[bool] = []
            self.events: list[dict] = []

        def on_come_closer(self, on: bool) -> None:
            self.closer.append(on)

        def on_event(self, event: dict) -> None:
            self.events.append(event)

    photo, landmarks = astronaut
    actor = PortraitActor(photo, landmarks, fps=FPS, seed=3, face_px=100.0)
    actor.schedule_blinks([1.5, 3.0])
    source = RenderedSource.of((f for _, f in actor.frames(0.0, 9.0)), FPS, "far actor")
    base = Settings()
    settings = Settings.model_validate(
        {
            **base.model_dump(),
            "paths": {**base.paths.model_dump(), "data_dir": tmp_path, "key_file": None},
            "hardware": {**base.hardware.model_dump(), "pin_factory": "mock"},
            "liveness": {**base.liveness.model_dump(), "challenge": False},
        }
    )
    emb = pipeline.embedder
    open_configured_gallery(settings.paths, emb.name, emb.dim, create=True).close()  # empty
    factory = make_pin_factory("mock")
    heard = Heard()
    amber = factory.pin(settings.hardware.amber_led_pin)
    service = DoorService(
        settings,
        source=lambda: source,
        lockstep=True,
        pipeline=pipeline,
        listener=heard,
        handle_signals=False,
        pin_factory=factory,
    )
    service.run()
    states = [s.state for s in amber.states]
    factory.reset()
    assert heard.closer[:1] == [True]
    access = [e for e in heard.events if e["type"] == "access"]
    assert access and access[0]["decision"] == "denied"
    assert access[0]["reasons"] == ["no_blink", "face_too_small"]
    rises = sum(1 for a, b in pairwise(states) if not a and b)
    assert rises >= 2  # blinking, not steady
