"""dlib's 68-point face landmarks, predicted inside a face box."""

from __future__ import annotations

import cv2
import dlib
import numpy as np

from facegate.vision.detection import Box
from facegate.vision.model_files import DLIB_LANDMARKS_68, verify

# Index ranges in the iBUG 68-point layout.
JAW = slice(0, 17)
NOSE_TIP = 30
CHIN = 8
RIGHT_EYE = slice(36, 42)  # the subject's right eye, on the image's left
LEFT_EYE = slice(42, 48)
MOUTH_RIGHT = 48
MOUTH_LEFT = 54


def dlib_rect(box: Box) -> dlib.rectangle:
    left, top, right, bottom = box.int_corners()
    return dlib.rectangle(left, top, right - 1, bottom - 1)


class LandmarkPredictor:
    """The 68-point shape predictor (about 1 ms a face).

    Works on the grey image (a BGR image is converted): the door's frame loop already has one.
    """

    def __init__(self) -> None:
        self._predictor = dlib.shape_predictor(str(verify(DLIB_LANDMARKS_68)))

    def predict(self, image: np.ndarray, box: Box) -> np.ndarray:
        """Return a (68, 2) float32 array of (x, y) pixel positions."""
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        shape = self._predictor(grey, dlib_rect(box))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
