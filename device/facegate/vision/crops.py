"""The face crops each embedder expects. The crop matters as much as the network.

This FaceNet (davidsandberg 20180408-102900) was trained on MTCNN boxes widened by a 32-pixel
margin at 160 px and resized to 160x160, then prewhitened; a rotated, landmark-aligned chip
costs it accuracy (AUC 0.955 against 0.997 on lfw10 pairs, see docs/recognition.md).
"""

from __future__ import annotations

import cv2
import numpy as np

from facegate.vision.detection import Box

FACENET_SIZE = 160
FACENET_MARGIN = 32
# Margin per side as a share of the box: the box fills 160 - 32 = 128 of the 160 pixels.
FACENET_MARGIN_RATIO = (FACENET_MARGIN / 2) / (FACENET_SIZE - FACENET_MARGIN)


def facenet_crop(image_bgr: np.ndarray, box: Box, size: int = FACENET_SIZE) -> np.ndarray:
    """Return the RGB uint8 ``size`` x ``size`` crop of an MTCNN box with FaceNet's margin.

    The margin scales with the face, so a face far from or near the camera gives the same crop
    (davidsandberg's script used 32 absolute pixels on LFW's 250x250 photos, the same there).
    """
    height, width = image_bgr.shape[:2]
    region = box.expanded(FACENET_MARGIN_RATIO).clipped(width, height)
    x1, y1, x2, y2 = region.int_corners()
    if x2 - x1 < 2 or y2 - y1 < 2:
        raise ValueError(f"face box {box} lies outside the {width}x{height} image")
    crop = cv2.resize(image_bgr[y1:y2, x1:x2], (size, size), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)


def prewhiten(rgb: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance over the whole crop, as FaceNet was trained."""
    x = rgb.astype(np.float32)
    std = max(float(x.std()), 1.0 / np.sqrt(x.size))
    return (x - float(x.mean())) / std


def grey_face(image_bgr: np.ndarray, box: Box, size: int = 128) -> np.ndarray:
    """A fixed-size grey crop of the face box, for resolution-independent quality measures."""
    height, width = image_bgr.shape[:2]
    x1, y1, x2, y2 = box.clipped(width, height).int_corners()
    crop = image_bgr[y1:y2, x1:x2]
    grey = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA)
