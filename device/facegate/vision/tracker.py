"""Follow one face from frame to frame and place dlib's 68 landmarks on it.

Two things make this cheaper and steadier than detecting every frame:

* Haar searches the whole frame only to find a face (and every ``rescan_s`` to count the faces
  in view); in between it searches a small region around the tracked face.
* The landmark predictor is given a box in *its own* convention (dlib's HOG detector boxes,
  which it was trained on), derived from the previous frame's landmarks. Haar's boxes sit
  lower and larger and jitter from frame to frame; fed to the predictor they move the eye
  points by a pixel or two, which is the size of a blink's EAR dip on a small face.

A face that Haar misses for a moment (a blink, a grimace) is followed on its landmarks for
``coast_s``; after that the track is lost. Each frame's face is also compared with the previous
one (:mod:`facegate.vision.continuity`: size step, aligned appearance), so that the attempt
can make an abrupt change of the face inside one track a witness for recognition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facegate.vision.continuity import compare, face_thumbnail
from facegate.vision.detection import Box
from facegate.vision.haar import HaarFaceDetector
from facegate.vision.landmarks import LandmarkPredictor

# Points that do not move with the eyes or the mouth: jaw, brows, nose.
_STABLE = np.r_[0:36]
# dlib's detector box relative to the stable points' centre and RMS spread, and Haar's box
# relative to dlib's; least squares on 836 frames of the blink and webcam clips.
_CENTRE_OFFSET = (0.005, -0.024)
_SPREAD_TO_SIZE = 2.361
_HAAR_DY = 0.093
_HAAR_TO_SIZE = 0.862


def box_from_landmarks(landmarks: np.ndarray) -> Box:
    """The box dlib's own detector would draw around these landmarks."""
    pts = landmarks[_STABLE].astype(np.float64)
    centre = pts.mean(axis=0)
    spread = float(np.sqrt(((pts - centre) ** 2).sum(axis=1).mean()))
    size = spread * _SPREAD_TO_SIZE
    cx = centre[0] + _CENTRE_OFFSET[0] * spread
    cy = centre[1] + _CENTRE_OFFSET[1] * spread
    return Box(cx - size / 2, cy - size / 2, size, size)


def box_from_haar(box: Box) -> Box:
    """A Haar box mapped to dlib's convention (same centre x, lower centre, smaller)."""
    size = box.h * _HAAR_TO_SIZE
    cx, cy = box.center
    cy += _HAAR_DY * box.h
    return Box(cx - size / 2, cy - size / 2, size, size)


@dataclass(frozen=True)
class TrackedFace:
    """The tracked face in one frame. ``detected`` is False while coasting on landmarks."""

    landmarks: np.ndarray
    box: Box
    detected: bool
    faces_in_view: int
    track_id: int = 0
    # Against the previous frame of the same track: size ratio and appearance correlation.
    scale_step: float = 1.0
    correlation: float = 1.0


class FaceTracker:
    """One face at a time; call :meth:`update` with every grey frame and its time (s).

    Each newly acquired face gets a new ``track_id``: liveness and recognition of one attempt
    must be about the same track.
    """

    def __init__(
        self,
        detector: HaarFaceDetector,
        landmarks: LandmarkPredictor,
        rescan_s: float = 1.0,
        coast_s: float = 0.3,
    ) -> None:
        self._detector = detector
        self._landmarks = landmarks
        self._rescan_s = rescan_s
        self._coast_s = coast_s
        self._track_id = 0
        self.reset()

    def reset(self) -> None:
        self._haar_box: Box | None = None
        self._box: Box | None = None
        self._thumb: np.ndarray | None = None
        self._last_seen = 0.0
        self._last_scan = float("-inf")
        self._faces_in_view = 0
        self._last_count = 0

    def update(self, grey: np.ndarray, t: float) -> TrackedFace | None:
        if self._box is None or t - self._last_scan >= self._rescan_s:
            return self._scan(grey, t)
        found = self._detector.detect_near(grey, self._haar_box or self._box)
        hit = next((d for d in found if box_from_haar(d.box).iou(self._box) > 0.3), None)
        if hit is None:
            # The face moved too far or too fast for the region: look everywhere before coasting.
            return self._scan(grey, t)
        return self._follow(grey, t, hit.box)

    def _scan(self, grey: np.ndarray, t: float) -> TrackedFace | None:
        """Search the whole frame; keep the tracked face if it is still there, else the largest."""
        self._last_scan = t
        found = self._detector.detect(grey)
        # A face counts when two scans in a row see it: Haar's odd false positive in the
        # background (one scan in ~20 on the demo's portraits) must not end a genuine attempt,
        # while a second person who steps in is still seen within two scans.
        self._faces_in_view = min(len(found), max(self._last_count, 1))
        self._last_count = len(found)
        if not found:
            if self._box is not None and t - self._last_seen <= self._coast_s:
                return self._place(grey, self._box, detected=False)
            self.reset()
            return None
        hit = found[0]
        if self._box is not None:
            same = max(found, key=lambda d: box_from_haar(d.box).iou(self._box))
            if box_from_haar(same.box).iou(self._box) > 0.3:
                hit = same
            else:
                self._box = self._haar_box = None  # the tracked face left; another is in view
        if self._box is None:
            self._track_id += 1
            self._thumb = None
        return self._follow(grey, t, hit.box)

    def _follow(self, grey: np.ndarray, t: float, haar_box: Box) -> TrackedFace:
        """Start from the last landmarks' box while Haar agrees with it, else from Haar's."""
        self._haar_box = haar_box
        self._last_seen = t
        mapped = box_from_haar(haar_box)
        start = self._box if self._box is not None and mapped.iou(self._box) > 0.6 else mapped
        return self._place(grey, start, detected=True)

    def _place(self, grey: np.ndarray, start: Box, detected: bool) -> TrackedFace:
        """Landmarks from ``start``, once more from their own box when that moved."""
        points = self._landmarks.predict(grey, start)
        box = box_from_landmarks(points)
        if box.iou(start) < 0.85:
            points = self._landmarks.predict(grey, box)
            box = box_from_landmarks(points)
        thumb = face_thumbnail(grey, points)
        scale_step, correlation = 1.0, 1.0
        if self._thumb is not None and self._box is not None:
            change = compare(self._box, self._thumb, box, thumb)
            scale_step, correlation = change.scale, change.correlation
        self._box, self._thumb = box, thumb
        return TrackedFace(
            points,
            box,
            detected,
            self._faces_in_view,
            self._track_id,
            scale_step,
            correlation,
        )
