"""Per-frame cost of the cheap path: Haar detection on a downscaled grey frame, landmarks."""

from __future__ import annotations

import statistics
import time

import cv2

from facegate.bench.faces import benchmark_faces
from facegate.config import Settings
from facegate.vision.haar import HaarFaceDetector
from facegate.vision.landmarks import LandmarkPredictor


def measure_frame_cost(settings: Settings, frames: int = 200) -> dict:
    d = settings.detection
    haar = HaarFaceDetector(d.haar_width, d.haar_min_neighbors, d.min_face_px)
    landmarks = LandmarkPredictor()
    images = [cv2.resize(im, (640, 480)) for im, _ in benchmark_faces(10)]
    detect_ms, landmark_ms = [], []
    for i in range(frames):
        frame = images[i % len(images)]
        t0 = time.perf_counter()
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        faces = haar.detect(grey)
        t1 = time.perf_counter()
        for face in faces[:1]:
            landmarks.predict(grey, face.box)
        t2 = time.perf_counter()
        detect_ms.append((t1 - t0) * 1000)
        landmark_ms.append((t2 - t1) * 1000)
    return {
        "frame": "640x480",
        "frames": frames,
        "haar_width": d.haar_width,
        "detect_ms_median": round(statistics.median(detect_ms), 2),
        "landmarks_ms_median": round(statistics.median(landmark_ms), 2),
        "total_ms_median": round(
            statistics.median(a + b for a, b in zip(detect_ms, landmark_ms, strict=True)), 2
        ),
    }


def format_frame_cost(r: dict) -> str:
    return (
        f"{r['frames']} frames of {r['frame']}, Haar on {r['haar_width']} px wide grey: "
        f"detect {r['detect_ms_median']:.2f} ms + landmarks {r['landmarks_ms_median']:.2f} ms "
        f"= {r['total_ms_median']:.2f} ms per frame (median)"
    )
