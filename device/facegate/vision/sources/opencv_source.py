"""OpenCV ``VideoCapture`` as a frame source: a USB webcam, an RTSP/HTTP stream or a video file."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import cv2

from facegate.errors import ImageError
from facegate.vision.image_io import as_bgr
from facegate.vision.sources.base import CameraError, Frame

log = logging.getLogger(__name__)

NETWORK_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")
# A dead network stream must fail a read, not hang it, so that the capture thread can reopen.
NETWORK_OPEN_TIMEOUT_MS = 10_000
NETWORK_READ_TIMEOUT_MS = 5_000


def redact_url(url: str) -> str:
    """The URL without a user name or password, fit for logs and alarm events."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def timing_fps(reported: float, fallback: float) -> float:
    """The file's frame rate for ``t = index / fps``; some files report 0 or NaN."""
    return float(reported) if math.isfinite(reported) and reported > 0 else float(fallback)


class OpenCVSource:
    """Frames from ``cv2.VideoCapture``.

    ``target`` is an int for a USB webcam index (live; the size and frame rate are requested
    from the driver), a ``rtsp://`` or ``http(s)://`` URL (live), or a video file path (finite;
    ``t = index / fps`` of the file, or ``fps`` when the file reports none). Frames keep the
    size the device or file gives unless ``resize`` is set.
    """

    def __init__(
        self,
        target: int | str | Path,
        width: int = 640,
        height: int = 480,
        fps: float = 15.0,
        *,
        resize: bool = False,
    ) -> None:
        if isinstance(target, bool) or (isinstance(target, int) and target < 0):
            raise CameraError(f"webcam index must be a non-negative integer, not {target!r}")
        if width <= 0 or height <= 0 or not fps > 0:
            raise CameraError(f"invalid frame size or rate: {width}x{height} at {fps} fps")
        self.target = target
        self.width = width
        self.height = height
        self.fps = float(fps)
        self.resize = resize
        self._network = isinstance(target, str) and target.lower().startswith(NETWORK_SCHEMES)
        self.live = isinstance(target, int) or self._network
        if isinstance(target, int):
            self.name = f"webcam {target} (/dev/video{target})"
        elif self._network:
            self.name = redact_url(str(target))
        else:
            self.name = str(target)
        self._cap: cv2.VideoCapture | None = None
        self._file_fps = self.fps
        self._index = 0

    def open(self) -> None:
        self.close()
        if isinstance(self.target, int):
            cap = cv2.VideoCapture(self.target)
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            cap.set(cv2.CAP_PROP_FPS, self.fps)
        elif self._network:
            cap = cv2.VideoCapture(
                str(self.target),
                cv2.CAP_FFMPEG,
                [
                    cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                    NETWORK_OPEN_TIMEOUT_MS,
                    cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                    NETWORK_READ_TIMEOUT_MS,
                ],
            )
        else:
            path = Path(self.target)
            if not path.is_file():
                raise CameraError(f"{path}: video file does not exist")
            cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            cap.release()
            what = "camera or stream" if self.live else "video"
            raise CameraError(f"{self.name}: cannot be opened as a {what}")
        self._cap = cap
        self._index = 0
        if not self.live:
            reported = cap.get(cv2.CAP_PROP_FPS)
            self._file_fps = timing_fps(reported, self.fps)
            if self._file_fps != reported:
                log.info("%s reports no frame rate; timing frames at %.1f fps", self.name, self.fps)
        log.info(
            "opened %s (%dx%d)",
            self.name,
            int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )

    @property
    def file_fps(self) -> float:
        """The frame rate used for ``t`` of a file: the file's own, or the fallback."""
        return self._file_fps

    def read(self) -> Frame | None:
        if self._cap is None:
            raise CameraError(f"{self.name}: read before open")
        ok, image = self._cap.read()
        t = time.monotonic()
        if not ok or image is None:
            if not self.live:
                return None
            raise CameraError(f"{self.name}: no frame (camera unplugged or stream down)")
        try:
            image = as_bgr(image, self.name)
        except ImageError as exc:
            raise CameraError(str(exc)) from None
        if self.resize and image.shape[:2] != (self.height, self.width):
            image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
        index = self._index
        self._index += 1
        if not self.live:
            t = index / self._file_fps
        return Frame(image=image, t=t, index=index)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
