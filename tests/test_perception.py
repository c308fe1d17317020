"""The per-frame step the door, the benchmarks and the evaluations share: faces in view and
the continuity of the tracked face, on real photos and the demo actor's rendered frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facegate.config import DetectionConfig
from facegate.demo import material
from facegate.demo.actor import PortraitActor
from facegate.evaluation.face_switch import FaceSwitchAttack
from facegate.identity.attempt_frames import AttemptFrames
from facegate.vision.perception import Perception

SIZE = (640, 480)


def framed(image: np.ndarray) -> np.ndarray:
    """``image`` scaled into a 640x480 frame."""
    h, w = image.shape[:2]
    scale = min(SIZE[0] / w, SIZE[1] / h)
    small = cv2.resize(image, (round(w * scale), round(h * scale)))
    out = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    out[: small.shape[0], : small.shape[1]] = small
    return out


@pytest.fixture(scope="module")
def two_people(demo_photos) -> np.ndarray:
    return framed(material.side_by_side(demo_photos["astronaut"], demo_photos["hopper"]))


@pytest.fixture(scope="module")
def one_person(demo_photos, two_people) -> np.ndarray:
    """The same frame with only the left person: her face at the same place."""
    out = two_people.copy()
    out[:, SIZE[0] // 2 :] = 0
    return out


def test_a_second_face_that_stays_is_counted_within_two_scans(one_person, two_people) -> None:
    p = Perception.from_config(DetectionConfig(rescan_s=0.3))
    counts = []
    for i in range(12):
        t = i / 10
        face = p.step(one_person if t < 0.4 else two_people, t)
        assert face is not None
        counts.append(face.faces_in_view)
    assert counts[0] == 1 and counts[-1] == 2
    assert counts.index(2) <= 9  # seen by the second scan after the person stepped in


def test_one_scan_that_sees_an_extra_face_does_not_count(one_person, two_people) -> None:
    """Haar's odd false positive is one scan long: it must not end a genuine attempt."""
    p = Perception.from_config(DetectionConfig(rescan_s=0.3))
    counts = []
    for i in range(20):
        t = i / 10
        frame = two_people if 0.55 <= t < 0.65 else one_person  # only the scan at t=0.6
        face = p.step(frame, t)
        assert face is not None
        counts.append(face.faces_in_view)
    assert max(counts) == 1


def test_the_face_switch_makes_a_witness_frame_and_a_genuine_face_keeps_one_track(
    demo_photos,
) -> None:
    attack = FaceSwitchAttack(
        PortraitActor(demo_photos["hopper"], seed=3, face_px=160),
        demo_photos["astronaut"],
        240,
        0.45,
        3,
    )
    attack.respond(1, 0.2)
    assert attack.switch_at is not None
    p = Perception.from_config(DetectionConfig())
    frames = AttemptFrames()
    tracks = set()
    for i in range(round((attack.switch_at + 1.0) * 15)):
        t = i / 15
        face = p.step(attack.frame(t), t)
        if face is not None:
            tracks.add(face.track_id)
            frames.offer(face, np.zeros((1, 1, 3), np.uint8))
    # The tracker keeps its track across the switch (boxes overlap) but marks the jump.
    assert len(tracks) == 1
    witnesses = frames.witnesses()
    assert any(abs(w.t - attack.switch_at) < 0.15 for w in witnesses), [w.t for w in witnesses]
