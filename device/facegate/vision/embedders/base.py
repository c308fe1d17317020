"""The embedder interface: a face in an image to a unit-length vector."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from facegate.vision.detection import Detection


class Embedder(Protocol):
    """Maps one detected face to an L2-normalised float32 vector of length ``dim``.

    ``needs_mtcnn_box`` says whether the crop is defined on MTCNN's box (FaceNet) so that a
    face found by another detector must be refined first.
    """

    name: str
    dim: int
    needs_mtcnn_box: bool

    def embed(self, image_bgr: np.ndarray, detection: Detection) -> np.ndarray: ...


def l2_normalise(vector: np.ndarray) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(v))
    if not np.isfinite(norm) or norm < 1e-12:
        raise ValueError("embedding has zero or non-finite length")
    return v / norm
