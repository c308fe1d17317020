"""Reading frames from a video file, for benchmarks, calibration and evaluation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from facegate.errors import ImageError


def video_frames(path: Path, every: int = 1) -> Iterator[np.ndarray]:
    """Every ``every``-th decoded frame (BGR), in OpenCV's decoding order."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ImageError(f"{path}: cannot be opened as a video")
    try:
        index = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            if index % every == 0:
                yield frame
            index += 1
    finally:
        cap.release()
