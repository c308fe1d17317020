"""Eye Aspect Ratio (Soukupová and Čech, 2016) from the 68-point landmarks."""

from __future__ import annotations

import numpy as np

from facegate.vision.landmarks import LEFT_EYE, RIGHT_EYE


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """EAR of one eye's six points p1..p6: (|p2-p6| + |p3-p5|) / (2 |p1-p4|).

    About 0.25-0.35 for an open eye, near 0.1 when closed; 0.0 for a degenerate eye.
    """
    p = eye.astype(np.float64)
    vertical = np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])
    horizontal = np.linalg.norm(p[0] - p[3])
    return float(vertical / (2.0 * horizontal)) if horizontal > 1e-6 else 0.0


def eyes_aspect_ratio(landmarks: np.ndarray) -> tuple[float, float]:
    """(right eye, left eye) EAR, the subject's right eye first."""
    return eye_aspect_ratio(landmarks[RIGHT_EYE]), eye_aspect_ratio(landmarks[LEFT_EYE])
