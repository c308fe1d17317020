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

from facegate.vision.haar import HaarFaceDetector

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


class HeldPhoto:
    """A still photo held in a hand in front of the camera, rendered one frame at a time.

    The sheet's size and place are drawn from the seed (it fills 50-75 % of the frame height)
    unless ``scale`` (frame px per photo px) and ``centre`` (the sheet's centre in the frame)
    are given. :meth:`next` renders the next frame over the drawn room, or over ``background``
    (a frame of a live scene: the photo held up in front of someone).
    """

    def __init__(
        self,
        photo_bgr: np.ndarray,
        seed: int,
        fps: float = 15.0,
        wave_eyes: np.ndarray | None = None,
        wave_at: tuple[float, ...] = (1.5, 3.0),
        scale: float | None = None,
        centre: tuple[float, float] | None = None,
    ) -> None:
        rng = np.random.default_rng(seed)
        w, h = FRAME_SIZE
        self.photo, self.fps = photo_bgr, fps
        self.wave_eyes, self.wave_at = wave_eyes, wave_at
        self.scene = _scene(rng)
        ph, pw = photo_bgr.shape[:2]
        drawn_scale = rng.uniform(0.5, 0.75) * h / ph
        self.scale = drawn_scale if scale is None else scale
        self.corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float32)
        drawn_centre = np.array([w / 2 + rng.uniform(-40, 40), h / 2 + rng.uniform(-30, 30)])
        self.centre = drawn_centre if centre is None else np.array(centre, dtype=np.float64)
        self.tilt = rng.uniform(-0.08, 0.08, size=2)
        self.drift_phase = rng.uniform(0, 2 * np.pi)
        self.blur_sigma = rng.uniform(0.0, 1.2)
        self.noise_sigma = rng.uniform(2.0, 6.0)
        self._rng = rng
        self._shake = np.zeros(4)
        self._index = 0

    def next(self, background: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """(time in s, BGR frame) of the next frame."""
        rng, (w, h) = self._rng, FRAME_SIZE
        t = self._index / self.fps
        self._index += 1
        # Hand tremor: a damped random walk in x, y (px), angle (deg) and scale.
        self._shake = 0.85 * self._shake + rng.normal(0, [1.5, 1.5, 0.35, 0.004])
        shake = self._shake
        angle = np.radians(shake[2])
        s = self.scale * (1 + shake[3])
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        ph, pw = self.photo.shape[:2]
        local = (self.corners - [pw / 2, ph / 2]) * s
        # Tilt of the sheet: the top or one side leans away, shrinking that edge.
        tilt = self.tilt
        lean = (
            1
            + np.array([tilt[0] * np.sign(c[1]) + tilt[1] * np.sign(c[0]) for c in local])[:, None]
        )
        placed = (local * lean) @ rot.T + self.centre + shake[:2]
        matrix = cv2.getPerspectiveTransform(self.corners, placed.astype(np.float32))
        frame = (self.scene if background is None else background).copy()
        shown = self.photo
        if self.wave_eyes is not None:
            for at in self.wave_at:
                if at <= t < at + WAVE_S:
                    shown = wave_over_eyes(self.photo, self.wave_eyes, (t - at) / WAVE_S)
        cv2.warpPerspective(shown, matrix, (w, h), dst=frame, borderMode=cv2.BORDER_TRANSPARENT)
        if self.blur_sigma > 0.3:
            frame = cv2.GaussianBlur(frame, (0, 0), self.blur_sigma)
        gain = 1 + 0.12 * np.sin(2 * np.pi * t / 4.0 + self.drift_phase)
        noise = np.empty(frame.shape, np.float32)
        cv2.setRNGSeed(int(rng.integers(2**31)))
        cv2.randn(noise, 0.0, self.noise_sigma)
        return t, cv2.convertScaleAbs(frame.astype(np.float32) * gain + noise)


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
    held = HeldPhoto(photo_bgr, seed, fps, wave_eyes, wave_at)
    for _ in range(round(seconds * fps)):
        yield held.next()


def printed_face(photo: np.ndarray) -> np.ndarray:
    """The photo cut to head and shoulders, as printed to be held up at the door (the whole
    portrait held at arm's length would show the face too small to be tried at all)."""
    box = HaarFaceDetector().detect(photo)[0].box
    cx, cy = box.center
    half = box.w * 1.2
    h, w = photo.shape[:2]
    top, left = round(max(cy - half, 0)), round(max(cx - half, 0))
    return photo[top : round(min(cy + half, h)), left : round(min(cx + half, w))].copy()
