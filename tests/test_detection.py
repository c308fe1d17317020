"""Both detectors on real photos that ship in installed packages."""

import numpy as np

from facegate.config import Settings
from facegate.vision.detection import Box, main_face
from facegate.vision.haar import HaarFaceDetector
from facegate.vision.landmarks import LandmarkPredictor


def test_mtcnn_finds_one_face_with_keypoints(pipeline, demo_photos):
    faces = pipeline.mtcnn.detect(demo_photos["hopper"])
    assert len(faces) == 1
    face = faces[0]
    assert face.score > 0.95 and face.source == "mtcnn"
    assert face.keypoints is not None and face.keypoints.shape == (5, 2)
    left_eye, right_eye = face.keypoints[0], face.keypoints[1]
    assert left_eye[0] < right_eye[0]
    x1, y1, x2, y2 = face.box.int_corners()
    assert x1 <= left_eye[0] <= x2 and y1 <= left_eye[1] <= y2


def test_haar_on_a_downscaled_grey_image(demo_photos):
    haar = HaarFaceDetector(width=320)
    faces = haar.detect(demo_photos["hopper"])
    assert faces and faces[0].source == "haar"
    assert faces[0].box.size > 150  # boxes are returned in full-resolution pixels


def test_haar_box_refined_by_mtcnn(pipeline, demo_photos):
    image = demo_photos["hopper"]
    rough = HaarFaceDetector().detect(image)[0]
    refined = pipeline.mtcnn.refine(image, rough.box)
    assert refined is not None and refined.source == "mtcnn"
    assert refined.box.iou(pipeline.mtcnn.detect(image)[0].box) > 0.9


def test_no_face_in_a_blank_image(pipeline):
    blank = np.full((480, 640, 3), 200, np.uint8)
    assert pipeline.mtcnn.detect(blank) == []
    assert HaarFaceDetector().detect(blank) == []
    assert pipeline.mtcnn.refine(blank, Box(100, 100, 120, 120)) is None


def test_haar_false_positive_is_not_confirmed(pipeline):
    noise = np.random.default_rng(3).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    assert pipeline.mtcnn.refine(noise, Box(90, 90, 120, 120)) is None


def test_main_face_prefers_large_and_central(pipeline, demo_photos):
    from facegate.demo.material import side_by_side

    image = side_by_side(demo_photos["astronaut"], demo_photos["hopper"])
    faces = pipeline.mtcnn.detect(image)
    assert len(faces) == 2
    chosen = main_face(faces, image.shape[1], image.shape[0])
    assert chosen is max(faces, key=lambda f: f.box.size)
    assert main_face([], 10, 10) is None


def test_landmarks_fall_on_the_face(demo_photos):
    image = demo_photos["hopper"]
    face = HaarFaceDetector().detect(image)[0]
    points = LandmarkPredictor().predict(image, face.box)
    assert points.shape == (68, 2)
    x1, y1, x2, y2 = face.box.expanded(0.1).int_corners()
    assert np.all((points[:, 0] >= x1) & (points[:, 0] <= x2))
    assert np.all((points[:, 1] >= y1) & (points[:, 1] <= y2))
    assert points[36:42, 0].mean() < points[42:48, 0].mean()  # subject's right eye on the left


def test_settings_choose_the_detector(settings):
    from facegate.vision.pipeline import FacePipeline

    assert FacePipeline.from_settings(settings).detector.name == "haar"
    chosen = Settings.model_validate({"detection": {"detector": "mtcnn"}})
    assert FacePipeline.from_settings(chosen).detector.name == "mtcnn"
