"""A folder of photos as a finite frame source, for demos, tests and enrolment batches."""

from __future__ import annotations

import logging
from pathlib import Path

from facegate.errors import ImageError
from facegate.vision.image_io import load_image
from facegate.vision.sources.base import CameraError, Frame

log = logging.getLogger(__name__)

FOLDER_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})


class ImageFolderSource:
    """The folder's images in name order, one frame each, timed ``t = index / fps``.

    A file that does not decode is skipped with a warning naming it: one bad photo must not
    stop a batch. ``loop`` starts again at the first image after the last one.
    """

    live = False

    def __init__(self, folder: str | Path, fps: float = 15.0, loop: bool = False) -> None:
        if not fps > 0:
            raise CameraError(f"{folder}: frame rate must be positive, not {fps}")
        self.folder = Path(folder)
        self.fps = float(fps)
        self.loop = loop
        self.name = str(self.folder)
        self._files: list[Path] = []
        self._next = 0
        self._index = 0

    @property
    def files(self) -> list[Path]:
        """The image files found by ``open``, in the order they are read."""
        return list(self._files)

    def open(self) -> None:
        if not self.folder.is_dir():
            raise CameraError(f"{self.folder}: image folder does not exist")
        files = sorted(
            p
            for p in self.folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in FOLDER_SUFFIXES
        )
        if not files:
            raise CameraError(f"{self.folder}: no images (.jpg, .jpeg, .png, .bmp) in this folder")
        self._files = files
        self._next = 0
        self._index = 0

    def read(self) -> Frame | None:
        if not self._files:
            raise CameraError(f"{self.folder}: read before open")
        skipped_in_a_row = 0
        while True:
            if self._next >= len(self._files):
                if not self.loop:
                    return None
                self._next = 0
            path = self._files[self._next]
            self._next += 1
            try:
                image = load_image(path)
            except ImageError as exc:
                log.warning("skipping an image that cannot be read: %s", exc)
                skipped_in_a_row += 1
                if skipped_in_a_row >= len(self._files):
                    raise CameraError(f"{self.folder}: none of the images can be read") from None
                continue
            index = self._index
            self._index += 1
            return Frame(image=image, t=index / self.fps, index=index)

    def close(self) -> None:
        self._files = []
        self._next = 0
