"""A still photo shown to the camera as if held in a hand: the photo attack, as frames.

Each frame places the photo on a 640x480 scene with a small hand tremor (shift, rotation,
scale and a tilt of the sheet, which is a homography), focus blur, sensor noise and a slow
brightness drift. The random draws are seeded from the photo's name so that a run repeats.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import cv2
import numpy as np

FRAME_SIZE = (640, 480)


def seed_for(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def _scene(rng: np.random.Generator) -> np.ndarray:
    """A blurred, uneven background (a room seen behind the photo)."""
    w, h = FRAME_SIZE
    small = rng.integers(40, 200, size=(6, 8, 3), dtype=np.uint8)
    return cv2.GaussianBlur(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), (0, 0), 25)


WAVE_S = 0.3


def wave_over_eyes(photo_bgr: np.ndarray, eyes: np.ndarray, progress: float) -> np.ndarray:
    """The photo with a finger passing down over both eyes (``progress`` 0..1).

    The blink-only attack: the finger hides the eyes for a moment, which a detector that only
    watches the EAR can take for a blink.
    """
    out = photo_bgr.copy()
    right, left = eyes
    span = float(np.linalg.norm(left - right))
    centre = (right + left) / 2
    y = centre[1] + (progress - 0.5) * 2.0 * span
    skin = (110, 145, 200)
    axes = (round(1.3 * span), max(2, round(0.35 * span)))
    cv2.ellipse(out, (round(centre[0]), round(y)), axes, 0, 0, 360, skin, -1, cv2.LINE_AA)
    return out


def held_photo_frames(
    photo_bgr: np.ndarray,
    seed: int,
    seconds: float = 5.0,
    fps: float = 15.0,
    wave_eyes: np.ndarray | None = None,
    wave_at: tuple[float, ...] = (1.5, 3.0),
) -> Iterator[tuple[float, np.ndarray]]:
    """(time in s, BGR frame) pairs of the photo held in front of the camera.

    With ``wave_eyes`` (the two eye centres in the photo, a (2, 2) array), a finger is passed
    over them for ``WAVE_S`` at each time in ``wave_at``.
    """
    rng = np.random.default_rng(seed)
    w, h = FRAME_SIZE
    scene = _scene(rng)
    ph, pw = photo_bgr.shape[:2]
    # The sheet fills 50-75 % of the frame height: the face is close, as at a door.
    scale = rng.uniform(0.5, 0.75) * h / ph
    corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float32)
    centre = np.array([w / 2 + rng.uniform(-40, 40), h / 2 + rng.uniform(-30, 30)])
    tilt = rng.uniform(-0.08, 0.08, size=2)
    drift_phase = rng.uniform(0, 2 * np.pi)
    blur_sigma = rng.uniform(0.0, 1.2)
    noise_sigma = rng.uniform(2.0, 6.0)
    shake = np.zeros(4)
    n = round(seconds * fps)
    for i in range(n):
        t = i / fps
        # Hand tremor: a damped random walk in x, y (px), angle (deg) and scale.
        shake = 0.85 * shake + rng.normal(0, [1.5, 1.5, 0.35, 0.004])
        angle = np.radians(shake[2])
        s = scale * (1 + shake[3])
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        local = (corners - [pw / 2, ph / 2]) * s
        # Tilt of the sheet: the top or one side leans away, shrinking that edge.
        lean = (
            1
            + np.array([tilt[0] * np.sign(c[1]) + tilt[1] * np.sign(c[0]) for c in local])[:, None]
        )
        placed = (local * lean) @ rot.T + centre + shake[:2]
        matrix = cv2.getPerspectiveTransform(corners, placed.astype(np.float32))
        frame = scene.copy()
        shown = photo_bgr
        if wave_eyes is not None:
            for at in wave_at:
                if at <= t < at + WAVE_S:
                    shown = wave_over_eyes(photo_bgr, wave_eyes, (t - at) / WAVE_S)
        cv2.warpPerspective(shown, matrix, (w, h), dst=frame, borderMode=cv2.BORDER_TRANSPARENT)
        if blur_sigma > 0.3:
            frame = cv2.GaussianBlur(frame, (0, 0), blur_sigma)
        gain = 1 + 0.12 * np.sin(2 * np.pi * t / 4.0 + drift_phase)
        noise = np.empty(frame.shape, np.float32)
        cv2.setRNGSeed(int(rng.integers(2**31)))
        cv2.randn(noise, 0.0, noise_sigma)
        yield t, cv2.convertScaleAbs(frame.astype(np.float32) * gain + noise)
