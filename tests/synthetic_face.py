"""A real face's 68 landmarks moved in time: live (sway, expression, blinks) or a photo."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from facegate.access.flow import Observation
from facegate.vision.face_sample import FaceSample
from facegate.vision.haar import HaarFaceDetector
from facegate.vision.landmarks import LandmarkPredictor
from facegate.vision.tracker import box_from_landmarks

# The portrait's face scaled up to a student at the door; motions and noise in pixels scale
# with it, so that every measure relative to the eye distance stays what it was at 96 px.
FACE_SCALE = 2.0


def real_face(demo_photos: dict[str, np.ndarray]) -> np.ndarray:
    """dlib's 68 points on the astronaut portrait: a real face's geometry, scaled to a face
    about 190 px wide (a student at the door; the portrait's own ~96 px face is below
    ``liveness.min_face_px``)."""
    grey = cv2.cvtColor(demo_photos["astronaut"], cv2.COLOR_BGR2GRAY)
    box = HaarFaceDetector().detect(grey)[0].box
    points = LandmarkPredictor().predict(grey, box).astype(np.float64)
    centre = points.mean(axis=0)
    return centre + FACE_SCALE * (points - centre)


def with_ear(points: np.ndarray, share: float) -> np.ndarray:
    """The same face with both eyes opened to ``share`` of their current height."""
    out = points.astype(np.float64).copy()
    for eye in (slice(36, 42), slice(42, 48)):
        e = out[eye]
        centre_y = (e[0, 1] + e[3, 1]) / 2
        e[:, 1] = centre_y + (e[:, 1] - centre_y) * share
        out[eye] = e
    return out.astype(np.float32)


def moved(points: np.ndarray, t: float, rng: np.random.Generator, noise: float) -> np.ndarray:
    """A small rigid sway (what a hand or a standing body does) plus landmark noise."""
    angle = np.radians(2.0 * np.sin(t * 1.3))
    shift = FACE_SCALE * np.array([6.0 * np.sin(t * 0.9), 4.0 * np.cos(t * 0.7)])
    centre = points.mean(axis=0)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    out = (
        (points - centre) @ rot.T + centre + shift + rng.normal(0, FACE_SCALE * noise, points.shape)
    )
    return out.astype(np.float32)


def sample(points: np.ndarray, t: float) -> FaceSample:
    return FaceSample(t, points, box_from_landmarks(points), (640, 480))


def blink_share(t: float, starts: list[float]) -> float:
    for s in starts:
        share = float(
            np.interp(t - s, [0, 0.04, 0.08, 0.12, 0.18, 0.24], [1, 0.5, 0.3, 0.4, 0.7, 1])
        )
        if 0 <= t - s <= 0.24:
            return share
    return 1.0


def live_face(face: np.ndarray, blinks: list[float], seconds: float, fps: float = 30.0, seed=0):
    """A live face: expression wobble (non-rigid), sway, blinks at the given times."""
    rng = np.random.default_rng(seed)
    for i in range(round(seconds * fps)):
        t = i / fps
        pts = with_ear(face, blink_share(t, blinks))
        # The mouth and brows move a little: a live face is never a rigid plane.
        pts[48:68, 1] += FACE_SCALE * 2.0 * np.sin(t * 2.1)
        pts[17:27, 1] += FACE_SCALE * 1.2 * np.sin(t * 1.7 + 1)
        yield sample(moved(pts, t, rng, 0.4), t)


def photo_face(face: np.ndarray, seconds: float, fps: float = 15.0, seed=0):
    rng = np.random.default_rng(seed)
    for i in range(round(seconds * fps)):
        t = i / fps
        yield sample(moved(face, t, rng, 0.15), t)


def observe(t: float, face: FaceSample | None, track_id: int = 1, faces_in_view: int = 1):
    """The camera loop's observation of ``face`` as track ``track_id``."""
    if face is None:
        return Observation(t, None)
    return Observation(t, replace(face, track_id=track_id, faces_in_view=faces_in_view))


class Switch:
    """A lockdown switch for flows under test (the door holds a real one)."""

    def __init__(self) -> None:
        self.on = False
