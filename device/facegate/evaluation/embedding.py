"""Embed every photo of an evaluation once, with MTCNN on the whole photo."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facegate.errors import ImageError
from facegate.vision.detection import main_face
from facegate.vision.image_io import load_image
from facegate.vision.pipeline import FacePipeline


def embed_photos(
    pipeline: FacePipeline, paths: Iterable[Path], progress: bool = True
) -> dict[Path, np.ndarray | None]:
    """Path to embedding of the photo's main face; None where no face (or no image) is found.

    News photos show bystanders, so the face nearest the centre and largest is taken, as in
    LFW's protocol; the enrolment quality gate is not applied here.
    """
    paths = list(paths)
    out: dict[Path, np.ndarray | None] = {}
    for path in tqdm(
        paths, desc="embedding", unit="photo", disable=None if progress else True, leave=False
    ):
        try:
            image = load_image(path)
        except ImageError:
            out[path] = None
            continue
        face = main_face(pipeline.mtcnn.detect(image), image.shape[1], image.shape[0])
        out[path] = None if face is None else pipeline.embedder.embed(image, face)
    return out
