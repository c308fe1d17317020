"""Enrolment: photos through the quality gate into templates in the gallery.

Every photo is judged on its own; a refused photo is reported with its reason and enrolment
goes on with the rest. A student is stored only if at least one photo passed, and all of a
student's templates are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facegate.errors import FacegateError, GalleryError, ImageError
from facegate.identity.gallery import Gallery, validate_name, validate_student_id
from facegate.vision.image_io import image_files, load_image
from facegate.vision.pipeline import FacePipeline
from facegate.vision.quality import QualityGate, QualityReport, Refusal


@dataclass(frozen=True)
class PhotoOutcome:
    path: Path
    accepted: bool
    code: str
    message: str
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class StudentOutcome:
    student_id: str
    name: str
    photos: list[PhotoOutcome]
    stored: int = 0
    error: str | None = None

    @property
    def accepted(self) -> list[PhotoOutcome]:
        return [p for p in self.photos if p.accepted]

    @property
    def refused(self) -> list[PhotoOutcome]:
        return [p for p in self.photos if not p.accepted]


def expand_photos(inputs: Iterable[Path]) -> list[Path]:
    """Files as given and the image files inside directories, in order, without repeats."""
    seen: dict[Path, None] = {}
    for item in inputs:
        for path in image_files(Path(item)):
            seen.setdefault(path, None)
    return list(seen)


class Enroller:
    """Turns photos into templates, judged by the quality gate. MTCNN finds the faces."""

    def __init__(self, pipeline: FacePipeline, gate: QualityGate) -> None:
        self._pipeline = pipeline
        self._gate = gate

    def assess(self, path: Path) -> tuple[PhotoOutcome, np.ndarray | None]:
        """Judge one photo; return its outcome and, if accepted, its embedding."""
        try:
            image = load_image(path)
        except ImageError as exc:
            return PhotoOutcome(path, False, "unreadable", str(exc)), None
        detections = self._pipeline.mtcnn.detect(image)
        report = self._gate.faces_check(detections)
        if report.ok:
            assert report.face is not None
            landmarks = self._pipeline.predict_landmarks(image, report.face)
            report = self._gate.check(image, report.face, landmarks)
        if not report.ok:
            return _refused(path, report), None
        assert report.face is not None
        embedding = self._pipeline.embedder.embed(image, report.face)
        return PhotoOutcome(path, True, "ok", "accepted", report.metrics), embedding

    def enroll(
        self,
        gallery: Gallery,
        student_id: str,
        name: str,
        photos: list[Path],
        on_photo: Callable[[PhotoOutcome], None] | None = None,
    ) -> StudentOutcome:
        outcome = StudentOutcome(student_id, name, [])
        try:
            validate_student_id(student_id)
            validate_name(name)
        except GalleryError as exc:
            outcome.error = str(exc)
            return outcome
        if not photos:
            outcome.error = "no photos given (or no image files in the folders given)"
            return outcome
        embeddings = []
        for path in photos:
            result, embedding = self.assess(path)
            outcome.photos.append(result)
            if embedding is not None:
                embeddings.append(embedding)
            if on_photo is not None:
                on_photo(result)
        if not embeddings:
            outcome.error = "no photo passed the quality gate; nothing was stored"
            return outcome
        try:
            outcome.stored = gallery.add_student(student_id, name, embeddings)
        except FacegateError as exc:
            outcome.error = str(exc)
        return outcome

    def enroll_images(
        self,
        gallery: Gallery,
        student_id: str,
        name: str,
        images: Iterable[np.ndarray],
        folder: Path,
    ) -> StudentOutcome:
        """Enrol from images in memory (frames of a clip, demo variants): written as JPEG files
        to ``folder`` first, so that they go through exactly what ``facegate enroll`` does."""
        paths = []
        for k, image in enumerate(images):
            paths.append(folder / f"{student_id}-{k}.jpg")
            cv2.imwrite(str(paths[-1]), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        return self.enroll(gallery, student_id, name, paths)


def _refused(path: Path, report: QualityReport) -> PhotoOutcome:
    first: Refusal = report.refusals[0]
    return PhotoOutcome(path, False, first.code, report.reason(), report.metrics)


def students_in(root: Path) -> list[tuple[str, str, list[Path]]]:
    """(student id, name, photos) for each sub-folder of ``root`` (the paper's layout).

    The folder name is the student id; the name is the folder name with '_' as spaces.
    Folders starting with '_' or '.' are skipped (faces94's '_unenrolled_test' holds probes).
    """
    root = Path(root)
    if not root.is_dir():
        raise ImageError(f"{root} is not a directory of per-student folders")
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name.startswith(("_", ".")):
            continue
        found.append((folder.name, folder.name.replace("_", " "), image_files(folder)))
    if not found:
        raise ImageError(f"{root} has no per-student sub-folders")
    return found
