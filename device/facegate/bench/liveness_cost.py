"""Per-frame cost of the liveness loop on 640x480 frames of real clips, measured side by side.

Three figures per frame, from the same frames in one run:

* ``landmarks_ear_pose``: dlib's 68 points in a known box, both EARs and head pose (the
  issue's budget: at most 15 ms here so that a Pi 5 keeps 15+ fps);
* ``tracked_loop``: what the door does per frame: tracker (Haar near the face, landmarks
  from their own box) plus the liveness check (blink detector, static-face check);
* ``full_frame_haar``: a whole-frame Haar scan, which the tracker runs only once a second.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from facegate.config.detection import DetectionConfig
from facegate.config.liveness import LivenessConfig
from facegate.errors import FacegateError
from facegate.liveness.verdict import LivenessCheck
from facegate.vision.ear import eyes_aspect_ratio
from facegate.vision.haar import HaarFaceDetector
from facegate.vision.head_pose import head_pose
from facegate.vision.landmarks import LandmarkPredictor
from facegate.vision.perception import Perception
from facegate.vision.tracker import FaceTracker
from facegate.vision.video import video_frames

SIZE = (640, 480)


def to_640x480(frame: np.ndarray) -> np.ndarray:
    """Fit into 640x480 keeping the aspect ratio, padded black (a camera's frame size)."""
    h, w = frame.shape[:2]
    s = min(SIZE[0] / w, SIZE[1] / h)
    small = cv2.resize(frame, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    out = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    y, x = (SIZE[1] - small.shape[0]) // 2, (SIZE[0] - small.shape[1]) // 2
    out[y : y + small.shape[0], x : x + small.shape[1]] = small
    return out


def _stats(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 2),
        "p95": round(float(np.percentile(values, 95)), 2),
    }


def measure_liveness_cost(videos: list[Path], fps: float = 30.0) -> dict:
    if not videos:
        raise FacegateError("give at least one video (e.g. ../shared/data/blink/liveportrait)")
    detection = DetectionConfig()
    haar = HaarFaceDetector.from_config(detection)
    landmarks = LandmarkPredictor()
    perception = Perception(FaceTracker(haar, landmarks, detection.rescan_s))
    core, loop, scan = [], [], []
    frames = 0
    for video in videos:
        perception.reset()
        check = LivenessCheck(0.0, LivenessConfig(challenge=False, timeout_s=120.0))
        for i, raw in enumerate(video_frames(video)):
            frame = to_640x480(raw)
            grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            t = i / fps
            frames += 1
            t0 = time.perf_counter()
            face = perception.step(grey, t)
            if face is not None and check.verdict is None:
                check.add(face)
            t1 = time.perf_counter()
            if face is None:
                continue
            loop.append((t1 - t0) * 1000)
            t2 = time.perf_counter()
            points = landmarks.predict(grey, face.box)
            eyes_aspect_ratio(points)
            head_pose(points, *SIZE)
            t3 = time.perf_counter()
            haar.detect(grey)
            t4 = time.perf_counter()
            core.append((t3 - t2) * 1000)
            scan.append((t4 - t3) * 1000)
    if not core:
        raise FacegateError("no face was found in the videos given")
    return {
        "videos": len(videos),
        "frames": frames,
        "frames_with_face": len(core),
        "frame_size": list(SIZE),
        "landmarks_ear_pose_ms": _stats(core),
        "tracked_loop_ms": _stats(loop),
        "full_frame_haar_ms": _stats(scan),
    }


def format_liveness_cost(r: dict) -> str:
    return (
        f"{r['frames']} frames of {r['videos']} video(s) at 640x480, face in "
        f"{r['frames_with_face']}\n"
        f"  landmarks + EAR + pose   {r['landmarks_ear_pose_ms']['median']:.2f} ms median, "
        f"{r['landmarks_ear_pose_ms']['p95']:.2f} ms p95\n"
        f"  tracked loop + liveness  {r['tracked_loop_ms']['median']:.2f} ms median, "
        f"{r['tracked_loop_ms']['p95']:.2f} ms p95\n"
        f"  full-frame Haar (1/s)    {r['full_frame_haar_ms']['median']:.2f} ms median, "
        f"{r['full_frame_haar_ms']['p95']:.2f} ms p95"
    )
