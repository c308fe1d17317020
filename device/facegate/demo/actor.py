"""A synthesised "live actor" for the demo: a real portrait photo that moves and blinks.

Nothing here is recorded video. Every frame is rendered from one still photo (scikit-image's
``astronaut.png``, matplotlib's ``grace_hopper.jpg``): the face is placed in a 640x480 frame as
a person standing at the door, about 200 px tall, with smooth head motion (shift, roll, scale,
a little yaw with the parallax of the nose), small non-rigid motion warped along the landmarks
(jaw, mouth corners, inner brows, a slight lid drift), a lighting drift and sensor noise. A
blink moves each upper lid's dark margin down onto the lower lid (a remap along the lid
landmarks), covers the eyeball it passes with the skin colour sampled just above the eye and
leaves a lash line, so that dlib's landmarks on the rendered frame show a real EAR dip.
Blinks are scheduled at given times, or in answer to the door's "blink N times now".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from facegate.errors import FacegateError
from facegate.vision.haar import HaarFaceDetector
from facegate.vision.landmarks import LandmarkPredictor
from facegate.vision.shape import inter_ocular
from facegate.vision.tracker import box_from_haar, box_from_landmarks

# The face box side in the frame (dlib's convention, as the tracker draws it), in pixels.
FACE_PX = 200.0
# A blink: the lids fall in CLOSE_S, stay shut HOLD_S and rise in OPEN_S, fast at first.
CLOSE_S, HOLD_S, OPEN_S = 0.06, 0.11, 0.15
# Shut, the lash line lies this far (in eye widths) below the photo's lower-lid points mid-eye
# (the lid covers the lower lid's margin too), and is this thick.
OVERSHOOT, LASH_LINE = 0.10, 0.11
# Each eye: outer corner, upper lid points, inner corner, lower lid points (under them).
_EYES = ((36, 37, 38, 39, 41, 40), (42, 43, 44, 45, 47, 46))


def photo_landmarks(photo_bgr: np.ndarray) -> np.ndarray:
    """dlib's 68 points on the photo's largest Haar face, refined on their own box."""
    grey = cv2.cvtColor(photo_bgr, cv2.COLOR_BGR2GRAY)
    found = HaarFaceDetector().detect(grey)
    if not found:
        raise FacegateError("the actor's photo shows no face the Haar detector finds")
    predictor = LandmarkPredictor()
    box = box_from_haar(found[0].box)
    for _ in range(3):
        points = predictor.predict(grey, box)
        box = box_from_landmarks(points)
    return points


def lid_closure(u: float) -> float:
    """Where the lids are (0 open, 1 shut) ``u`` seconds after a blink starts: they accelerate
    down, stay shut, snap most of the way open and then settle."""
    if u <= 0.0 or u >= CLOSE_S + HOLD_S + OPEN_S:
        return 0.0
    if u < CLOSE_S:
        return float((0.5 - 0.5 * np.cos(np.pi * u / CLOSE_S)) ** 2)
    return float(min(1.0, (1.0 - (u - CLOSE_S - HOLD_S) / OPEN_S) ** 12))


class _Wave:
    """A smooth random signal in [-1, 1]: three sines of random frequency and phase."""

    def __init__(self, rng: np.random.Generator, low: float = 0.15, high: float = 0.6) -> None:
        self.f = rng.uniform(low, high, 3)
        self.phase = rng.uniform(0, 2 * np.pi, 3)

    def __call__(self, t: float) -> float:
        return float(np.array([0.6, 0.3, 0.1]) @ np.sin(2 * np.pi * self.f * t + self.phase))


class _Eyelid:
    """One upper lid. Closing remaps its dark margin (lashes, the lid's shadow) down onto the
    lower lid, narrowing and darkening it into a lash line, and covers the eyeball it passes
    with the skin colour sampled just above the margin."""

    def __init__(self, canvas: np.ndarray, eye: np.ndarray) -> None:
        outer, up1, up2, inner, low1, low2 = eye
        self.width = width = float(np.linalg.norm(inner - outer))
        left, right = sorted((outer[0], inner[0]))
        self.x0, self.x1 = int(np.floor(left - 0.2 * width)), int(np.ceil(right + 0.2 * width))
        xs = np.arange(self.x0, self.x1, dtype=np.float32)
        upper = sorted([outer, up1, up2, inner], key=lambda q: q[0])
        lower = sorted([outer, low1, low2, inner], key=lambda q: q[0])
        self.upper = np.interp(xs, [q[0] for q in upper], [q[1] for q in upper])
        lower_y = np.interp(xs, [q[0] for q in lower], [q[1] for q in lower])
        self.inside = np.sin(np.pi * np.clip((xs - left) / max(right - left, 1.0), 0.0, 1.0))
        self.travel = np.maximum(lower_y - self.upper, 0.0) + OVERSHOOT * width * self.inside
        # The margin reaches up to where the skin above the lid is 80 % of its brightest.
        grey = cv2.cvtColor(canvas, cv2.COLOR_BGR2GRAY).astype(np.float32)
        xa, xb = sorted((round(up1[0]), round(up2[0])))
        lid = min(up1[1], up2[1])
        reach = np.arange(0.0, 0.3 * width)
        profile = np.array([grey[round(lid - r), xa : xb + 1].mean() for r in reach])
        margin = reach[np.flatnonzero(profile >= 0.8 * profile.max())[0]]
        self.lash = float(np.clip(margin, 0.06 * width, 0.25 * width))
        band = canvas[round(lid - self.lash) : round(max(up1[1], up2[1])) + 1, xa : xb + 1]
        band = band.reshape(-1, 3).astype(np.float32)
        self.lash_colour = band[band.mean(axis=1) <= np.percentile(band.mean(axis=1), 15)].mean(0)
        # The skin just above the margin, column by column, held constant towards the corners
        # (where the row above is shadow) and smoothed along the lid.
        rows = (self.upper - self.lash - np.arange(1.0, 3.0)[:, None]).astype(np.float32)
        above = cv2.remap(canvas, np.broadcast_to(xs, rows.shape).copy(), rows, cv2.INTER_LINEAR)
        cols = np.clip(np.arange(xs.size), *np.flatnonzero(self.inside >= 0.7)[[0, -1]])
        skin = above.astype(np.float32).mean(axis=0)[cols]
        self.skin = cv2.GaussianBlur(skin[None], (0, 0), sigmaX=0.08 * width, sigmaY=0.1)[0]
        self.y0 = int(np.floor(self.upper.min() - self.lash - 2))
        self.y1 = int(np.ceil((self.upper + self.travel).max() + 2))

    def close(self, image: np.ndarray, closed: float) -> None:
        """Close the lid to ``closed`` (0 open .. 1 shut), in place."""
        ys = np.arange(self.y0, self.y1, dtype=np.float32)[:, None]
        edge = self.upper + closed * self.travel
        thin = self.lash + closed * (LASH_LINE * self.width - self.lash)
        band = (ys >= edge - thin) & (ys <= edge)
        source = self.upper - self.lash + (ys - edge + thin) * self.lash / thin
        map_y = np.where(band, source, ys).astype(np.float32)
        map_x = np.broadcast_to(np.arange(self.x0, self.x1, dtype=np.float32), map_y.shape)
        roi = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR).astype(np.float32)
        top = self.upper - self.lash
        depth = np.clip((ys - top) / np.maximum(edge - thin - top, 1.0), 0.0, 1.0)
        covered = np.clip((ys - top) / (0.1 * self.width) + 0.5, 0.0, 1.0) * (ys <= edge - thin)
        covered *= min(1.0, 4.0 * closed)
        shade = (0.9 + 0.1 * self.inside) * (1.0 - 0.12 * depth)
        roi += covered[:, :, None] * (shade[:, :, None] * self.skin[None] - roi)
        lashes = np.clip(np.minimum(ys - edge + thin, edge - ys) + 0.5, 0.0, 1.0)
        lashes *= closed**2 * (self.inside > 0)
        roi += lashes[:, :, None] * (self.lash_colour - roi)
        image[self.y0 : self.y1, self.x0 : self.x1] = roi.clip(0, 255).astype(np.uint8)


class PortraitActor:
    """A photo rendered as a live person at the door; :meth:`frame` renders the frame at ``t``.

    ``landmarks`` are the photo's 68 points (found with facegate's Haar detector and dlib when
    omitted); ``face_px`` is the face box's side in the frame (near: large). Frames are
    deterministic for a seed, a time and the scheduled blinks.
    """

    def __init__(
        self,
        photo_bgr: np.ndarray,
        landmarks: np.ndarray | None = None,
        size: tuple[int, int] = (640, 480),
        fps: float = 15.0,
        seed: int = 0,
        face_px: float = FACE_PX,
    ) -> None:
        points = photo_landmarks(photo_bgr) if landmarks is None else landmarks
        self.size, self.fps, self.seed = size, fps, seed
        self._blinks: list[float] = []
        self._turns: list[tuple[float, float, float, float]] = []
        rng = np.random.default_rng(seed)
        self._motion = {k: _Wave(rng) for k in ("x", "y", "roll", "scale", "yaw", "light")}
        self._face = {k: _Wave(rng, 0.3, 1.0) for k in ("jaw", "smile", "brow", "lids")}
        self._scale = face_px / box_from_landmarks(points).w
        self._centre = points[np.r_[0:36]].astype(np.float64).mean(axis=0)
        self._canvas, offset = _padded(photo_bgr, self._scale, self._centre, size)
        self._centre += offset
        self.landmarks = points.astype(np.float64) + offset
        self._build_fields()
        self._lids = [_Eyelid(self._canvas, self.landmarks[list(eye)]) for eye in _EYES]
        self._ramp = np.linspace(-1.0, 1.0, size[0], dtype=np.float32)[None, :, None]

    @property
    def blinks(self) -> tuple[float, ...]:
        """The scheduled blink start times (s)."""
        return tuple(self._blinks)

    def schedule_blinks(self, times: Sequence[float]) -> None:
        """Add blinks starting at these times (s)."""
        self._blinks = sorted([*self._blinks, *map(float, times)])

    def schedule_turn(
        self, start: float, seconds: float, yaw_deg: float = 0.0, pitch_deg: float = 0.0
    ) -> None:
        """Turn the head by these angles (pitch positive: down) from ``start`` over ``seconds``,
        smoothly, and hold it there: the head movement that blinks come with."""
        self._turns.append((float(start), float(seconds), float(yaw_deg), float(pitch_deg)))

    def _turned(self, t: float) -> tuple[float, float]:
        """(yaw, pitch) in degrees added by the scheduled turns at ``t``."""
        yaw = pitch = 0.0
        for start, seconds, d_yaw, d_pitch in self._turns:
            u = float(np.clip((t - start) / max(seconds, 1e-6), 0.0, 1.0))
            step = 0.5 - 0.5 * np.cos(np.pi * u)
            yaw, pitch = yaw + float(step) * d_yaw, pitch + float(step) * d_pitch
        return yaw, pitch

    def respond(self, n: int, after: float) -> list[float]:
        """Answer "blink ``n`` times" prompted at ``after``: about 0.7 s later, 0.7-0.9 s apart.

        Returns the scheduled start times."""
        if n < 1:
            return []
        rng = np.random.default_rng([self.seed, n, round(abs(after) * 1000)])
        start = after + 0.7 + rng.uniform(0.0, 0.1)
        times = [float(start + g) for g in np.r_[0.0, np.cumsum(rng.uniform(0.7, 0.9, n - 1))]]
        self.schedule_blinks(times)
        return times

    def closure(self, t: float) -> float:
        """How closed the eyes are at ``t`` (0 open, 1 shut): blinks over a slight lid drift."""
        drift = 0.06 + 0.06 * self._face["lids"](t)
        return max([drift, *(lid_closure(t - s) for s in self._blinks)])

    def frames(self, start: float, seconds: float) -> Iterator[tuple[float, np.ndarray]]:
        """(time, frame) at ``fps`` from ``start`` for ``seconds``."""
        for i in range(round(seconds * self.fps)):
            t = start + i / self.fps
            yield t, self.frame(t)

    def frame(self, t: float) -> np.ndarray:
        """The BGR frame at ``t`` seconds."""
        image = self._canvas.copy()
        for lid in self._lids:
            lid.close(image, self.closure(t))
        image = self._deform(image, t)
        w, h = self.size
        out = cv2.warpPerspective(image, self._head(t), (w, h), borderMode=cv2.BORDER_REPLICATE)
        gain = 1.0 + 0.06 * self._motion["light"](t) + 0.05 * np.sin(0.7 * t) * self._ramp
        noise = np.empty(out.shape, np.float32)
        cv2.setRNGSeed((self.seed * 1_000_003 + round(t * 1000)) % 2**31)
        cv2.randn(noise, 0.0, 2.5)
        return cv2.convertScaleAbs(out.astype(np.float32) * gain + noise)

    def _head(self, t: float) -> np.ndarray:
        """Canvas to frame: the face placed and moved by the head (a homography)."""
        m, (w, h) = self._motion, self.size
        s = self._scale * (1.0 + 0.025 * m["scale"](t))
        roll, yaw = np.radians(3.0 * m["roll"](t)), np.radians(self._yaw_deg(t))
        pitch = np.radians(self._turned(t)[1])
        cx, cy = self._centre
        to_face = np.array([[1.0, 0, -cx], [0, 1, -cy], [0, 0, 1]])
        turn = np.array(
            [
                [np.cos(yaw), 0, 0],
                [0, np.cos(pitch), 0],
                [np.sin(yaw) / 600.0, np.sin(pitch) / 600.0, 1],
            ]
        )
        c, n = np.cos(roll) * s, np.sin(roll) * s
        place = np.array([[c, -n, w / 2 + 10.0 * m["x"](t)], [n, c, 0.45 * h + 6.0 * m["y"](t)]])
        return np.vstack([place, [0, 0, 1]]) @ turn @ to_face

    def _yaw_deg(self, t: float) -> float:
        return 5.0 * self._motion["yaw"](t) + self._turned(t)[0]

    def _build_fields(self) -> None:
        """Displacement fields (canvas px per unit of motion) around the face."""
        p, u = self.landmarks, inter_ocular(self.landmarks)
        lo = np.floor(p.min(axis=0) - 0.8 * u).astype(int).clip(0)
        hi = np.minimum(np.ceil(p.max(axis=0) + 0.8 * u).astype(int), self._canvas.shape[1::-1])
        self._roi = (lo[0], lo[1], hi[0], hi[1])
        gx, gy = np.meshgrid(
            *(np.arange(a, b, dtype=np.float32) for a, b in zip(lo, hi, strict=True))
        )
        self._grid = (gx, gy)

        def blob(centre: np.ndarray, sigma: float, vector: tuple[float, float]) -> np.ndarray:
            g = np.exp(-((gx - centre[0]) ** 2 + (gy - centre[1]) ** 2) / (2 * (sigma * u) ** 2))
            return np.stack([g * vector[0] * u, g * vector[1] * u]).astype(np.float32)

        self._fields = {
            "jaw": blob(p[57], 0.25, (0.0, 0.08)) + blob(p[8], 0.35, (0.0, 0.08)),
            "smile": blob(p[48], 0.18, (-0.11, -0.05)) + blob(p[54], 0.18, (0.11, -0.05)),
            "brow": blob(p[21], 0.15, (0.0, -0.09)) + blob(p[22], 0.15, (0.0, -0.09)),
            "nose": blob((p[30] + p[33]) / 2, 0.35, (0.025, 0.0)),
            "nose_pitch": blob((p[30] + p[33]) / 2, 0.35, (0.0, 0.025)),
        }

    def _deform(self, image: np.ndarray, t: float) -> np.ndarray:
        """Jaw, mouth corners, inner brows and the nose's parallax: one remap of the face."""
        amount = {k: self._face[k](t) for k in ("jaw", "smile", "brow")}
        amount["nose"] = self._yaw_deg(t)
        amount["nose_pitch"] = self._turned(t)[1]
        d = sum(a * self._fields[k] for k, a in amount.items())
        (gx, gy), (x0, y0, x1, y1) = self._grid, self._roi
        image[y0:y1, x0:x1] = cv2.remap(image, gx - d[0], gy - d[1], cv2.INTER_LINEAR)
        return image


def _padded(
    photo_bgr: np.ndarray, scale: float, centre: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The part of the photo the moving frame can show, extended past the photo's edges by a
    blurred copy of them (faded in), and the photo's offset in it."""
    w, h = size
    lo = np.floor(centre - np.array([0.65 * w, 0.6 * h]) / scale).astype(int)
    hi = np.ceil(centre + np.array([0.65 * w, 0.7 * h]) / scale).astype(int)
    ph, pw = photo_bgr.shape[:2]
    pad = int(max(0, -lo.min(), hi[0] - pw, hi[1] - ph))
    big = cv2.copyMakeBorder(photo_bgr, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    small = cv2.resize(big, None, fx=0.1, fy=0.1, interpolation=cv2.INTER_AREA)
    blurred = cv2.resize(cv2.GaussianBlur(small, (0, 0), 4), big.shape[1::-1])
    feather = max(4, round(0.04 * min(ph, pw)))
    alpha = np.zeros(big.shape[:2], np.float32)
    alpha[pad + feather : pad + ph - feather, pad + feather : pad + pw - feather] = 1.0
    alpha = cv2.GaussianBlur(alpha, (0, 0), feather / 2)[:, :, None]
    canvas = alpha * big.astype(np.float32) + (1 - alpha) * blurred.astype(np.float32)
    (x0, y0), (x1, y1) = lo + pad, hi + pad
    return canvas[y0:y1, x0:x1].astype(np.uint8), -lo.astype(np.float64)
