"""Head pose (yaw, pitch, roll) from 68 landmarks with ``cv2.solvePnP`` on a generic face."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# A generic 3-D face in millimetres (x right, y up, z towards the camera), matched to landmark
# indices: nose tip, chin, outer eye corners, mouth corners.
_MODEL_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),  # 30 nose tip
        (0.0, -63.6, -12.5),  # 8 chin
        (-43.3, 32.7, -26.0),  # 36 right eye, outer corner (image left)
        (43.3, 32.7, -26.0),  # 45 left eye, outer corner
        (-28.9, -28.9, -24.1),  # 48 mouth, right corner
        (28.9, -28.9, -24.1),  # 54 mouth, left corner
    ],
    dtype=np.float64,
)
_LANDMARK_INDICES = [30, 8, 36, 45, 48, 54]


@dataclass(frozen=True)
class HeadPose:
    """Degrees from a generic face model: rough, and the quality gate compares magnitudes
    only. A mirrored face gives the opposite yaw and roll."""

    yaw: float
    pitch: float
    roll: float


def head_pose(landmarks: np.ndarray, image_width: int, image_height: int) -> HeadPose:
    image_points = landmarks[_LANDMARK_INDICES].astype(np.float64)
    focal = float(max(image_width, image_height))
    camera = np.array(
        [[focal, 0, image_width / 2.0], [0, focal, image_height / 2.0], [0, 0, 1]],
        dtype=np.float64,
    )
    # Flip the model's y axis to the image's downward y.
    model = _MODEL_POINTS * np.array([1.0, -1.0, -1.0])
    # SQPnP finds the global solution (the iterative solver alone can flip to a mirror pose,
    # about 28 degrees of pitch, from one frame to the next); Levenberg-Marquardt then refines
    # it on the reprojection error.
    ok, rvec, tvec = cv2.solvePnP(
        model, image_points, camera, np.zeros(4), flags=cv2.SOLVEPNP_SQPNP
    )
    if not ok:
        return HeadPose(float("nan"), float("nan"), float("nan"))
    rvec, tvec = cv2.solvePnPRefineLM(model, image_points, camera, np.zeros(4), rvec, tvec)
    rotation, _ = cv2.Rodrigues(rvec)
    # Euler angles (x: pitch, y: yaw, z: roll) of R = Rz * Ry * Rx.
    sy = float(np.hypot(rotation[0, 0], rotation[1, 0]))
    pitch = float(np.degrees(np.arctan2(rotation[2, 1], rotation[2, 2])))
    yaw = float(np.degrees(np.arctan2(-rotation[2, 0], sy)))
    roll = float(np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0])))
    return HeadPose(yaw=yaw, pitch=-pitch, roll=roll)
