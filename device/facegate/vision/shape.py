"""How much a set of landmarks changed beyond a rigid move: the geometry behind liveness.

A photo moved in front of the camera changes its landmarks only by a homography (a flat
object seen from another angle); a live face also changes shape (expressions, lids, the
parallax of a 3-D head turning). Residuals are in pixels; callers divide by the eye distance.
"""

from __future__ import annotations

import cv2
import numpy as np


def inter_ocular(landmarks: np.ndarray) -> float:
    """Distance between the two eyes' centres, the face's own unit of length."""
    right = landmarks[36:42].mean(axis=0)
    left = landmarks[42:48].mean(axis=0)
    return float(np.linalg.norm(left - right))


def similarity_residual(a: np.ndarray, b: np.ndarray) -> float:
    """RMS distance left after the best rotation, scale and shift of ``a`` onto ``b``."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    a0, b0 = a - ca, b - cb
    norm = float((a0**2).sum())
    if norm < 1e-12:
        return float(np.sqrt((b0**2).sum(axis=1).mean()))
    u, s, vt = np.linalg.svd(a0.T @ b0)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.diag([1.0, d])
    rotation = u @ fix @ vt
    scale = float((s * np.diag(fix)).sum()) / norm
    moved = scale * a0 @ rotation
    return float(np.sqrt(((moved - b0) ** 2).sum(axis=1).mean()))


def homography_residual(a: np.ndarray, b: np.ndarray) -> float:
    """RMS distance left after the best plane-to-plane mapping of ``a`` onto ``b``."""
    src = a.astype(np.float64)
    dst = b.astype(np.float64)
    matrix, _ = cv2.findHomography(src, dst, 0)
    if matrix is None:
        return float("inf")
    mapped = cv2.perspectiveTransform(src.reshape(-1, 1, 2), matrix).reshape(-1, 2)
    return float(np.sqrt(((mapped - dst) ** 2).sum(axis=1).mean()))
