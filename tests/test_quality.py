"""The enrolment quality gate, on its pure checks and on real photos."""

import numpy as np
import pytest

from facegate.config import QualityConfig
from facegate.demo.material import blurred
from facegate.vision.detection import Box, Detection
from facegate.vision.image_io import load_image
from facegate.vision.quality import QualityGate

from .conftest import shared

GATE = QualityGate(QualityConfig())


def det(size: float, x: float = 0) -> Detection:
    return Detection(Box(x, 0, size, size), 0.99, "mtcnn")


def test_face_count_and_size_rules():
    assert GATE.faces_check([]).refusals[0].code == "no_face"
    assert GATE.faces_check([det(100), det(90, 200)]).refusals[0].code == "several_faces"
    small = GATE.faces_check([det(30)])
    assert small.refusals[0].code == "face_too_small" and "30 px" in small.reason()
    # A bystander too small to be enrolled is not a second candidate.
    ok = GATE.faces_check([det(120), det(25, 300)])
    assert ok.ok and ok.face is not None and ok.face.box.size == 120


def assess(pipeline, image):
    face = pipeline.mtcnn.detect(image)[0]
    return face, pipeline.predict_landmarks(image, face)


def test_a_good_portrait_passes(pipeline, demo_photos):
    image = demo_photos["hopper"]
    face, landmarks = assess(pipeline, image)
    report = GATE.check(image, face, landmarks)
    assert report.ok, report.reason()
    assert abs(report.metrics["yaw_deg"]) < 10 and report.metrics["ear_left"] > 0.2


def test_blur_is_refused(pipeline, demo_photos):
    image = demo_photos["hopper"]
    face, landmarks = assess(pipeline, image)
    report = GATE.check(blurred(image), face, landmarks)
    assert [r.code for r in report.refusals] == ["blurry"]


def test_closed_eyes_from_landmarks(pipeline, demo_photos):
    image = demo_photos["hopper"]
    face, landmarks = assess(pipeline, image)
    closed = landmarks.copy()
    for eye in (slice(36, 42), slice(42, 48)):
        pts = closed[eye]
        pts[:, 1] = pts[:, 1].mean()  # upper and lower lids meet
    report = GATE.check(image, face, closed)
    assert "eyes_closed" in [r.code for r in report.refusals]


@pytest.mark.data
def test_real_closed_eyes_are_refused(pipeline):
    image = load_image(shared("identities", "faces94", "vstros", "vstros.4.jpg"))
    face, landmarks = assess(pipeline, image)
    assert "eyes_closed" in [r.code for r in GATE.check(image, face, landmarks).refusals]


@pytest.mark.data
def test_a_turned_head_is_refused(pipeline):
    path = shared("identities", "lfw10", "Arnold_Schwarzenegger", "Arnold_Schwarzenegger_0001.jpg")
    image = load_image(path)
    face, landmarks = assess(pipeline, image)
    report = GATE.check(image, face, landmarks)
    assert "not_frontal" in [r.code for r in report.refusals]
    assert "yaw" in report.reason()


def test_sharpness_is_resolution_independent(pipeline, demo_photos):
    import cv2

    from facegate.vision.quality import sharpness

    image = demo_photos["hopper"]
    face = pipeline.mtcnn.detect(image)[0]
    half = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    half_face = pipeline.mtcnn.detect(half)[0]
    a, b = sharpness(image, face), sharpness(half, half_face)
    assert np.isfinite(a) and np.isfinite(b) and 0.3 < a / b < 3


def test_mirrored_face_gives_the_opposite_yaw(pipeline, demo_photos):
    from facegate.vision.head_pose import head_pose

    image = demo_photos["astronaut"]
    mirrored = image[:, ::-1].copy()
    yaws = []
    for im in (image, mirrored):
        _, landmarks = assess(pipeline, im)
        yaws.append(head_pose(landmarks, im.shape[1], im.shape[0]).yaw)
    assert abs(yaws[0]) > 3
    assert yaws[0] == pytest.approx(-yaws[1], abs=3)
