"""Haar frontal-face detection on a downscaled grey image: cheap enough for every frame."""

from __future__ import annotations

import cv2
import numpy as np

from facegate.config.detection import DetectionConfig
from facegate.errors import ModelFileError
from facegate.vision.detection import Box, Detection
from facegate.vision.model_files import HAAR_FRONTAL, verify


class HaarFaceDetector:
    """OpenCV's ``haarcascade_frontalface_default.xml`` (the paper's detector)."""

    name = "haar"

    def __init__(
        self,
        width: int = 320,
        min_neighbors: int = 5,
        min_face_px: int = 60,
        scale_factor: float = 1.15,
    ) -> None:
        path = verify(HAAR_FRONTAL)
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ModelFileError(f"{HAAR_FRONTAL.name}: OpenCV could not load {path}")
        self._width = width
        self._min_neighbors = min_neighbors
        self._min_face_px = min_face_px
        self._scale_factor = scale_factor

    @classmethod
    def from_config(cls, cfg: DetectionConfig) -> HaarFaceDetector:
        return cls(
            cfg.haar_width, cfg.haar_min_neighbors, cfg.haar_min_face_px, cfg.haar_scale_factor
        )

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        height, width = image_bgr.shape[:2]
        scale = min(1.0, self._width / float(width))
        grey = image_bgr if image_bgr.ndim == 2 else cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            grey = cv2.resize(
                grey, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
            )
        grey = cv2.equalizeHist(grey)
        min_px = max(12, round(self._min_face_px * scale))
        rects, _levels, weights = self._cascade.detectMultiScale3(
            grey,
            scaleFactor=self._scale_factor,
            minNeighbors=self._min_neighbors,
            minSize=(min_px, min_px),
            outputRejectLevels=True,
        )
        found = [
            Detection(Box(*map(float, r)).scaled(1.0 / scale), float(w), self.name)
            for r, w in zip(rects, np.ravel(weights), strict=True)
        ]
        return sorted(found, key=lambda d: d.box.area, reverse=True)

    def detect_near(self, grey: np.ndarray, face: Box, search: float = 0.6) -> list[Detection]:
        """Faces of about ``face``'s size in the region around it, on a grey image.

        The tracker's cheap path: the region is scaled so that the face is about 80 px wide
        and only sizes from 0.6x to 1.6x are searched, which costs a fraction of a frame scan.
        """
        height, width = grey.shape[:2]
        region = face.expanded(search).clipped(width, height)
        if region.w < 12 or region.h < 12:
            return []
        x0, y0, x1, y1 = region.int_corners()
        crop = grey[y0:y1, x0:x1]
        scale = min(1.0, 80.0 / max(face.size, 1.0))
        if scale < 1.0:
            crop = cv2.resize(
                crop,
                (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))),
                interpolation=cv2.INTER_AREA,
            )
        crop = cv2.equalizeHist(crop)
        size = face.size * scale
        rects, _levels, weights = self._cascade.detectMultiScale3(
            crop,
            scaleFactor=self._scale_factor,
            minNeighbors=self._min_neighbors,
            minSize=(max(12, round(size * 0.6)),) * 2,
            maxSize=(round(size * 1.6),) * 2,
            outputRejectLevels=True,
        )
        found = [
            Detection(
                Box(x0 + r[0] / scale, y0 + r[1] / scale, r[2] / scale, r[3] / scale),
                float(w),
                self.name,
            )
            for r, w in zip(rects, np.ravel(weights), strict=True)
        ]
        return sorted(found, key=lambda d: d.box.iou(face), reverse=True)
