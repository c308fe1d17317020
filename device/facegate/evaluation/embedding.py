"""Embed every photo of an evaluation once, with MTCNN on the whole photo.

With a cache folder (``--cache DIR`` or ``FACEGATE_EVAL_CACHE``; outside the repository,
never shipped) embeddings are kept per photo *content* (sha256), embedder and detector
settings, so a second evaluation of the same photos skips MTCNN and the embedder. The cache
holds vectors only, no photo and no name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facegate.config.detection import DetectionConfig
from facegate.errors import ImageError
from facegate.vision.detection import main_face
from facegate.vision.image_io import load_image
from facegate.vision.pipeline import FacePipeline

# Bump when detection, the choice of the main face or a crop changes what a photo embeds to.
CACHE_VERSION = 2
_NO_FACE = np.zeros(0, np.float32)


def _cache_file(cache: Path, pipeline: FacePipeline, detection: str) -> Path:
    settings = f"v{CACHE_VERSION}|{pipeline.embedder.name}|{detection}"
    tag = hashlib.sha256(settings.encode()).hexdigest()[:16]
    return Path(cache) / f"{pipeline.embedder.name}-{tag}.npz"


def _load_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError):
        return {}  # a damaged cache is rebuilt, never trusted


def _save_cache(path: Path, entries: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    with os.fdopen(fd, "wb") as fh:
        np.savez(fh, **entries)
    os.replace(tmp, path)


def embed_photos(
    pipeline: FacePipeline,
    paths: Iterable[Path],
    progress: bool = True,
    cache: Path | None = None,
    detection: str = "",
) -> dict[Path, np.ndarray | None]:
    """Path to embedding of the photo's main face; None where no face (or no image) is found.

    News photos show bystanders, so the face nearest the centre and largest is taken, as in
    LFW's protocol; the enrolment quality gate is not applied here. ``detection`` names the
    detector settings in use (part of the cache key).
    """
    paths = list(paths)
    cache_path = None if cache is None else _cache_file(cache, pipeline, detection)
    cached = {} if cache_path is None else _load_cache(cache_path)
    added = 0
    out: dict[Path, np.ndarray | None] = {}
    for path in tqdm(
        paths, desc="embedding", unit="photo", disable=None if progress else True, leave=False
    ):
        try:
            data = Path(path).read_bytes()
        except OSError:
            out[path] = None
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest in cached:
            vector = cached[digest]
            out[path] = vector if vector.size else None
            continue
        try:
            image = load_image(path)
        except ImageError:
            out[path] = None
            continue
        face = main_face(pipeline.mtcnn.detect(image), image.shape[1], image.shape[0])
        out[path] = None if face is None else pipeline.embedder.embed(image, face)
        if cache_path is not None:
            cached[digest] = _NO_FACE if out[path] is None else out[path]  # type: ignore[assignment]
            added += 1
    if cache_path is not None and added:
        _save_cache(cache_path, cached)
    return out


def detection_key(detection: DetectionConfig) -> str:
    """What decides an evaluation photo's face: MTCNN's settings (part of the cache key)."""
    return f"{detection.mtcnn_min_face_px}|{tuple(detection.mtcnn_thresholds)}"
