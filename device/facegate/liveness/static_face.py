"""The photo-attack check: a face that keeps its shape while it moves is a flat picture.

A printed photo or a still on a screen moved by hand changes its landmarks only by a
homography, and its EAR stays flat. A live face changes shape: lids, mouth, brows, and the
parallax of a 3-D head. Over a window of ``static_window_s`` this check measures

* ``ear_spread``: the spread (5th to 95th percentile) of the mean EAR over its median;
* ``nonrigid``: the median, over the window, of what is left after mapping the window's first
  landmarks onto each sample by the best homography, over the eye distance;

and calls the face static when both stay below their limits. It decides before the attempt's
time runs out, and it never decides "live": only a blink does.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from facegate.config.liveness import LivenessConfig
from facegate.vision.shape import homography_residual, inter_ocular


@dataclass(frozen=True)
class StaticMeasure:
    t: float
    ear_spread: float
    nonrigid: float

    def as_evidence(self) -> dict:
        return {
            "t": round(self.t, 3),
            "ear_spread": round(self.ear_spread, 4),
            "nonrigid": round(self.nonrigid, 4),
        }


class StaticFaceCheck:
    def __init__(self, params: LivenessConfig | None = None) -> None:
        self.p = params or LivenessConfig()
        self._window: deque[tuple[float, np.ndarray, float]] = deque()
        self.last: StaticMeasure | None = None
        # The most live-looking window so far (largest non-rigid motion), for the evidence.
        self.most_live: StaticMeasure | None = None

    def add(self, t: float, landmarks: np.ndarray, ear: float) -> StaticMeasure | None:
        """Add a sample and its mean EAR; return the window's measure once the window is full."""
        self._window.append((t, landmarks, ear))
        while t - self._window[0][0] > self.p.static_window_s:
            self._window.popleft()
        if t - self._window[0][0] < 0.9 * self.p.static_window_s or len(self._window) < 8:
            return None
        # A window moves little in 0.2 s; measuring more often only costs time.
        if self.last is not None and t - self.last.t < 0.2:
            return None
        ears = np.array([e for _, _, e in self._window])
        reference = self._window[0][1]
        unit = max(inter_ocular(reference), 1e-6)
        residuals = [homography_residual(reference, lm) / unit for _, lm, _ in self._window]
        spread = float(np.percentile(ears, 95) - np.percentile(ears, 5)) / max(
            float(np.median(ears)), 1e-6
        )
        measure = StaticMeasure(t, spread, float(np.median(residuals[1:])))
        self.last = measure
        if self.most_live is None or measure.nonrigid > self.most_live.nonrigid:
            self.most_live = measure
        return measure

    def is_static(self, measure: StaticMeasure) -> bool:
        return (
            measure.ear_spread < self.p.static_ear_spread
            and measure.nonrigid < self.p.static_nonrigid
        )

    def reset(self) -> None:
        self._window.clear()
        self.last = None
        self.most_live = None
