"""What every frame source delivers, so the capture thread and the pipeline need not care
whether frames come from the Pi camera, a webcam, an RTSP stream, a video file or a folder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from facegate.errors import FacegateError


class CameraError(FacegateError):
    """A frame source cannot be opened or read; the message names the device or path."""


@dataclass(frozen=True)
class Frame:
    """One BGR uint8 image (H x W x 3) with the time it was taken.

    ``t`` is in seconds: ``time.monotonic()`` at capture for live cameras, ``index / fps`` for
    files and folders, so that blink timing on a recording does not depend on decoding speed.
    """

    image: np.ndarray
    t: float
    index: int


@runtime_checkable
class FrameSource(Protocol):
    """A camera, stream, file or folder that yields frames one at a time.

    ``live`` is True for cameras and network streams (endless; a failed read is an error) and
    False for files and folders (finite; ``read`` returns None at the end).
    """

    name: str
    live: bool

    def open(self) -> None:
        """Acquire the device or file; raise :class:`CameraError` naming it when that fails."""
        ...

    def read(self) -> Frame | None:
        """The next frame, None at the end of a finite source, CameraError on a live failure."""
        ...

    def close(self) -> None:
        """Release the device; safe to call twice, and ``open`` may follow again."""
        ...
