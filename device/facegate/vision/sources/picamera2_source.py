"""The Raspberry Pi camera module through picamera2 (libcamera).

picamera2 is not on PyPI in a usable form for the Pi 5: it comes from the Raspberry Pi OS apt
package ``python3-picamera2``, and the venv sees it through ``--system-site-packages``. It is
imported only when the camera is opened, so everything else runs without it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from facegate.errors import ImageError
from facegate.vision.image_io import as_bgr
from facegate.vision.sources.base import CameraError, Frame

log = logging.getLogger(__name__)

# picamera2's names for pixel formats follow libcamera/DRM, which count from the least
# significant byte: the Picamera2 manual (section "Image formats") says "RGB888 - 24 bits per
# pixel, ordered [B, G, R]". So an RGB888 stream arrives in numpy as BGR, OpenCV's order, and
# needs no colour conversion.
PIXEL_FORMAT = "RGB888"
MISSING_PICAMERA2 = (
    "picamera2 is not installed: install python3-picamera2 from apt "
    "(sudo apt install python3-picamera2) and create the venv with --system-site-packages"
)


def _import_picamera2() -> Callable[[int], Any]:
    try:
        from picamera2 import Picamera2
    except ImportError as exc:
        raise CameraError(f"{MISSING_PICAMERA2} ({exc})") from None
    return Picamera2


class Picamera2Source:
    """Live BGR frames from a Pi camera module.

    ``picamera2_factory`` stands in for ``picamera2.Picamera2`` (called with the camera
    number); it exists so the adapter can be tested where picamera2 cannot be installed.
    ``capture_timeout_s`` bounds each capture: by default picamera2 waits forever for a frame,
    so an unplugged ribbon cable would hang the capture thread instead of raising.
    """

    live = True

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        fps: float = 15.0,
        camera_num: int = 0,
        picamera2_factory: Callable[[int], Any] | None = None,
        *,
        buffer_count: int = 4,
        capture_timeout_s: float = 2.0,
    ) -> None:
        if width % 2 or height % 2 or width <= 0 or height <= 0:
            raise CameraError(f"Pi camera size must be even and positive, not {width}x{height}")
        if not fps > 0 or not capture_timeout_s > 0 or buffer_count < 1:
            raise CameraError("Pi camera frame rate, timeout and buffer count must be positive")
        self.width = width
        self.height = height
        self.fps = float(fps)
        self.camera_num = camera_num
        self.buffer_count = buffer_count
        self.capture_timeout_s = capture_timeout_s
        self.name = f"Pi camera {camera_num}"
        self._factory = picamera2_factory
        self._cam: Any = None
        self._index = 0

    def open(self) -> None:
        self.close()
        factory = self._factory or _import_picamera2()
        cam = None
        try:
            cam = factory(self.camera_num)
            config = cam.create_video_configuration(
                main={"size": (self.width, self.height), "format": PIXEL_FORMAT},
                controls={"FrameRate": self.fps},
                buffer_count=self.buffer_count,
            )
            cam.configure(config)
            cam.start()
        except Exception as exc:
            if cam is not None:
                self._release(cam)
            raise CameraError(f"{self.name}: cannot be started ({exc})") from exc
        self._cam = cam
        self._index = 0
        log.info("opened %s (%dx%d at %.1f fps)", self.name, self.width, self.height, self.fps)

    def read(self) -> Frame | None:
        if self._cam is None:
            raise CameraError(f"{self.name}: read before open")
        try:
            array = self._cam.capture_array("main", wait=self.capture_timeout_s)
        except Exception as exc:
            raise CameraError(f"{self.name}: no frame ({type(exc).__name__}: {exc})") from exc
        t = time.monotonic()
        try:
            image = as_bgr(array, self.name)
        except ImageError as exc:
            raise CameraError(str(exc)) from None
        index = self._index
        self._index += 1
        return Frame(image=image, t=t, index=index)

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is not None:
            self._release(cam)

    def _release(self, cam: Any) -> None:
        # After a timed-out capture the job is still queued and would block stop() forever;
        # picamera2 provides cancel_all_and_flush() for exactly this (a dislodged cable).
        for step in (cam.cancel_all_and_flush, cam.stop, cam.close):
            try:
                step()
            except Exception as exc:
                log.debug("%s: %s failed while closing: %s", self.name, step.__name__, exc)
