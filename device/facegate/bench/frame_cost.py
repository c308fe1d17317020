"""Per-frame cost of the cheap path: Haar on a downscaled grey frame, then 68 landmarks.

Real camera frames are best (``--video``, e.g. ../shared/data/blink clips); without them the
demo portraits are used. Frames are scaled so that their longer side is 640 px.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from facegate.bench.faces import benchmark_faces
from facegate.config import Settings
from facegate.errors import FacegateError
from facegate.vision.haar import HaarFaceDetector
from facegate.vision.landmarks import LandmarkPredictor
from facegate.vision.video import video_frames


def _to_640(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    s = 640.0 / max(h, w)
    return cv2.resize(frame, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)


def clip_frames(videos: list[Path], every: int = 5) -> list[np.ndarray]:
    frames = [_to_640(f) for video in videos for f in video_frames(video, every)]
    if not frames:
        raise FacegateError("no frames could be read from the videos given")
    return frames


def measure_frame_cost(
    settings: Settings, frames: int = 200, videos: list[Path] | None = None
) -> dict:
    d = settings.detection
    haar = HaarFaceDetector(
        d.haar_width, d.haar_min_neighbors, d.haar_min_face_px, d.haar_scale_factor
    )
    landmarks = LandmarkPredictor()
    material = clip_frames(videos) if videos else [_to_640(im) for im, _ in benchmark_faces(10)]
    detect_ms, landmark_ms, with_face = [], [], 0
    for i in range(frames):
        frame = material[i % len(material)]
        t0 = time.perf_counter()
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        faces = haar.detect(grey)
        t1 = time.perf_counter()
        if faces:
            with_face += 1
            landmarks.predict(grey, faces[0].box)
        t2 = time.perf_counter()
        detect_ms.append((t1 - t0) * 1000)
        landmark_ms.append((t2 - t1) * 1000)
    return {
        "material": f"{len(videos)} video(s)" if videos else "demo portraits",
        "frames": frames,
        "distinct_frames": len(material),
        "haar_width": d.haar_width,
        "haar_scale_factor": d.haar_scale_factor,
        "frames_with_face": with_face,
        "detect_ms_median": round(statistics.median(detect_ms), 2),
        "landmarks_ms_median": round(
            statistics.median([m for m in landmark_ms if m > 0] or [0.0]), 2
        ),
        "total_ms_median": round(
            statistics.median(a + b for a, b in zip(detect_ms, landmark_ms, strict=True)), 2
        ),
    }


def format_frame_cost(r: dict) -> str:
    return (
        f"{r['frames']} frames ({r['distinct_frames']} distinct, {r['material']}, longer side "
        f"640 px), Haar on a {r['haar_width']} px wide grey copy, scale factor "
        f"{r['haar_scale_factor']}: face in {r['frames_with_face']}/{r['frames']}\n"
        f"  detect {r['detect_ms_median']:.2f} ms + landmarks {r['landmarks_ms_median']:.2f} ms"
        f" = {r['total_ms_median']:.2f} ms per frame (medians)"
    )
