"""The face-detection interface shared by the Haar and MTCNN detectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in image pixels (top-left corner, width, height)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def area(self) -> float:
        return self.w * self.h

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2.0, self.y + self.h / 2.0)

    @property
    def size(self) -> float:
        """The shorter side: what a minimum face size is compared with."""
        return min(self.w, self.h)

    def scaled(self, factor: float) -> Box:
        return Box(self.x * factor, self.y * factor, self.w * factor, self.h * factor)

    def expanded(self, ratio: float) -> Box:
        """Grow by ``ratio`` of width and height on every side."""
        dx, dy = self.w * ratio, self.h * ratio
        return Box(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy)

    def clipped(self, width: int, height: int) -> Box:
        x1, y1 = max(self.x, 0.0), max(self.y, 0.0)
        x2, y2 = min(self.x + self.w, float(width)), min(self.y + self.h, float(height))
        return Box(x1, y1, max(x2 - x1, 0.0), max(y2 - y1, 0.0))

    def int_corners(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) rounded to whole pixels, right/bottom exclusive."""
        return (
            round(self.x),
            round(self.y),
            round(self.x + self.w),
            round(self.y + self.h),
        )

    def iou(self, other: Box) -> float:
        x1, y1 = max(self.x, other.x), max(self.y, other.y)
        x2 = min(self.x + self.w, other.x + other.w)
        y2 = min(self.y + self.h, other.y + other.h)
        inter = max(x2 - x1, 0.0) * max(y2 - y1, 0.0)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


@dataclass(frozen=True, eq=False)
class Detection:
    """One face found in an image.

    ``keypoints`` are MTCNN's five points (left eye, right eye, nose, mouth left, mouth right)
    as a (5, 2) array in image pixels, or None for detectors that do not give them.
    """

    box: Box
    score: float
    source: str
    keypoints: np.ndarray | None = None


class FaceDetector(Protocol):
    """Finds faces in a BGR image; returns them best first."""

    name: str

    def detect(self, image_bgr: np.ndarray) -> list[Detection]: ...


def main_face(detections: list[Detection], width: int, height: int) -> Detection | None:
    """The face a photo is about: large and near the centre (news photos show bystanders).

    Faces less than half the size of the largest are not candidates: in celeba278 a small
    false detection near the centre of a photo was taken over the person beside it.
    """
    if not detections:
        return None
    largest = max(d.box.size for d in detections)
    detections = [d for d in detections if d.box.size >= 0.5 * largest]
    cx, cy = width / 2.0, height / 2.0

    def cost(d: Detection) -> float:
        fx, fy = d.box.center
        return float(np.hypot(fx - cx, fy - cy)) - 0.5 * d.box.size

    return min(detections, key=cost)
