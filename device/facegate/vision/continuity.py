"""Is the tracked face still the same face? A cheap test on every frame of a track.

A tracker that matches boxes by overlap alone keeps its track when a printed photo of someone
else is held up over the face it follows (the face-switch attack). Between two frames a real
face changes little: its size by a few percent (a head does not jump towards the camera in
1/15 s) and its appearance, aligned on the eyes and nose (which expressions hardly move), not
much even across a blink. Each frame's face is compared with the previous one; a frame where
the size steps or the appearance correlation drops past the limits becomes a *witness* that
recognition must find to be the same person (:mod:`facegate.identity.attempt_frames`). The
test alone cannot decide: real, expressive faces cross the limits on about 1 % of frames
(measured on the shared clips, docs/liveness.md, "One face per attempt").
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facegate.vision.detection import Box

# Where the eye centres and the nose's centre go in the aligned thumbnail.
THUMB = 32
_CANONICAL = np.array([[10.0, 12.0], [22.0, 12.0], [16.0, 19.0]], dtype=np.float32)


def face_thumbnail(grey: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The face aligned on its eyes and nose, ``THUMB`` px square, zero mean, unit norm."""
    points = np.array(
        [
            landmarks[36:42].mean(axis=0),
            landmarks[42:48].mean(axis=0),
            landmarks[27:36].mean(axis=0),
        ],
        dtype=np.float32,
    )
    matrix = similarity_matrix(points, _CANONICAL)
    patch = cv2.warpAffine(grey, matrix, (THUMB, THUMB), flags=cv2.INTER_LINEAR).astype(np.float32)
    patch -= patch.mean()
    norm = float(np.linalg.norm(patch))
    return patch / norm if norm > 1e-6 else patch


def similarity_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 rotation, scale and shift that maps ``src`` onto ``dst`` best (least squares)."""
    a, b = src.astype(np.float64), dst.astype(np.float64)
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    a0, b0 = a - ca, b - cb
    u, s, vt = np.linalg.svd(b0.T @ a0)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.diag([1.0, d])
    rotation = u @ fix @ vt
    scale = float((s * np.diag(fix)).sum()) / max(float((a0**2).sum()), 1e-12)
    matrix = np.hstack([scale * rotation, (cb - scale * rotation @ ca)[:, None]])
    return matrix.astype(np.float32)


@dataclass(frozen=True)
class Change:
    """What changed between two frames of one track: size ratio and appearance correlation."""

    scale: float
    correlation: float


def compare(previous_box: Box, previous_thumb: np.ndarray, box: Box, thumb: np.ndarray) -> Change:
    scale = box.w / max(previous_box.w, 1e-6)
    return Change(scale, float((previous_thumb * thumb).sum()))
