"""Real face material for benchmarks: the demo photos that ship in installed packages."""

from __future__ import annotations

import numpy as np

from facegate.demo import material
from facegate.errors import FacegateError
from facegate.vision.detection import Detection
from facegate.vision.mtcnn import MtcnnFaceDetector


def benchmark_faces(n: int, seed: int = 0) -> list[tuple[np.ndarray, Detection]]:
    """``n`` (image, MTCNN face) pairs from seeded variants of the demo portraits."""
    detector = MtcnnFaceDetector()
    originals = [material.load_photo(p) for p in (material.ASTRONAUT, material.HOPPER)]
    faces: list[tuple[np.ndarray, Detection]] = []
    rng = np.random.default_rng(seed)
    for _ in range(4 * n):
        image = material.variant(originals[len(faces) % 2], rng)
        found = detector.detect(image)
        if found:
            faces.append((image, found[0]))
        if len(faces) == n:
            return faces
    raise FacegateError("could not find enough faces in the demo photos")
