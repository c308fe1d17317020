"""dlib's 128-D ResNet (99.38% on LFW as published), for comparison with FaceNet."""

from __future__ import annotations

import cv2
import dlib
import numpy as np

from facegate.vision.detection import Detection
from facegate.vision.embedders.base import l2_normalise
from facegate.vision.landmarks import dlib_rect
from facegate.vision.model_files import DLIB_LANDMARKS_5, DLIB_RESNET, verify


class DlibResNet:
    """Aligns with dlib's 5-point predictor (its own chip) and embeds with its ResNet."""

    name = "dlib"
    dim = 128
    needs_mtcnn_box = False

    def __init__(self) -> None:
        self._shape5 = dlib.shape_predictor(str(verify(DLIB_LANDMARKS_5)))
        self._net = dlib.face_recognition_model_v1(str(verify(DLIB_RESNET)))

    def embed(self, image_bgr: np.ndarray, detection: Detection) -> np.ndarray:
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        shape = self._shape5(rgb, dlib_rect(detection.box))
        return l2_normalise(np.array(self._net.compute_face_descriptor(rgb, shape)))
