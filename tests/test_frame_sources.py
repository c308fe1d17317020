"""Frame sources on real files: a recorded blink video, LFW photos, videos written here.

The picamera2 adapter is checked against a stand-in with picamera2's method names and
signatures (picamera2 needs libcamera and a Pi; it cannot be installed here).
"""

from __future__ import annotations

import logging
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from facegate.config import CameraConfig
from facegate.vision.image_io import load_image
from facegate.vision.sources import (
    CameraError,
    Frame,
    FrameSource,
    ImageFolderSource,
    OpenCVSource,
    Picamera2Source,
    open_source,
)
from facegate.vision.sources.opencv_source import redact_url, timing_fps

from .conftest import shared

PERSON = "Tony_Blair"


def blink_video() -> Path:
    return shared("blink", "liveportrait", "d13.mp4")


def opencv_count(path: Path) -> tuple[int, float]:
    """How many frames OpenCV itself decodes from ``path``, and the fps the file reports."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    count = 0
    while cap.grab():
        count += 1
    cap.release()
    return count, fps


def lfw_photos(n: int) -> list[Path]:
    photos = sorted(shared("identities", "lfw10", PERSON).glob("*.jpg"))
    assert len(photos) >= n
    return photos[:n]


def write_video(path: Path, n: int, fps: float = 10.0, size: tuple[int, int] = (96, 96)) -> Path:
    """An mp4v video of ``n`` frames cut from a real LFW photo, shifted one pixel per frame."""
    photo = load_image(lfw_photos(1)[0])
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    assert writer.isOpened()
    w, h = size
    for i in range(n):
        writer.write(np.ascontiguousarray(photo[40 + i % 20 : 40 + i % 20 + h, 60 : 60 + w]))
    writer.release()
    return path


# -- OpenCVSource ------------------------------------------------------------------------------


def test_video_file_gives_every_decoded_frame_timed_by_the_files_fps() -> None:
    path = blink_video()
    expected, fps = opencv_count(path)
    source = OpenCVSource(path)
    assert isinstance(source, FrameSource)
    assert not source.live
    source.open()
    try:
        first = source.read()
        assert first is not None
        cap = cv2.VideoCapture(str(path))
        ok, reference = cap.read()
        cap.release()
        assert ok and np.array_equal(first.image, reference)
        indexes, times, shapes = [first.index], [first.t], {first.image.shape}
        while (frame := source.read()) is not None:
            indexes.append(frame.index)
            times.append(frame.t)
            shapes.add(frame.image.shape)
            assert frame.image.dtype == np.uint8
        assert source.read() is None
    finally:
        source.close()
    assert len(indexes) == expected > 100
    assert indexes == list(range(expected))
    assert source.file_fps == pytest.approx(fps)
    assert np.allclose(np.diff(times), 1.0 / fps)
    assert times[0] == 0.0
    assert shapes == {(reference.shape[0], reference.shape[1], 3)}


def test_video_file_is_not_resized_unless_asked(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", 6, size=(96, 96))
    plain = OpenCVSource(path, width=64, height=48)
    plain.open()
    assert plain.read().image.shape == (96, 96, 3)
    plain.close()
    resized = OpenCVSource(path, width=64, height=48, resize=True)
    resized.open()
    frames = [f for f in iter(resized.read, None)]
    resized.close()
    assert len(frames) == 6
    assert {f.image.shape for f in frames} == {(48, 64, 3)}


def test_reopening_a_video_file_starts_again(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", 4)
    source = OpenCVSource(path)
    source.open()
    assert [f.index for f in iter(source.read, None)] == [0, 1, 2, 3]
    source.close()
    source.close()
    source.open()
    assert source.read().index == 0
    source.close()


def test_missing_video_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "clip.mp4"
    with pytest.raises(CameraError, match=r"clip\.mp4: video file does not exist"):
        OpenCVSource(path).open()


def test_a_file_that_is_not_a_video_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("not a video")
    with pytest.raises(CameraError, match=r"notes\.mp4: cannot be opened as a video"):
        OpenCVSource(path).open()


def test_read_before_open_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="read before open"):
        OpenCVSource(write_video(tmp_path / "clip.mp4", 2)).read()


def test_fallback_fps_when_a_file_reports_none() -> None:
    assert timing_fps(30.0, 15.0) == 30.0
    assert timing_fps(0.0, 15.0) == 15.0
    assert timing_fps(math.nan, 12.5) == 12.5


def test_webcam_index_is_live_and_a_missing_camera_names_the_device() -> None:
    source = OpenCVSource(97)
    assert source.live
    with pytest.raises(CameraError, match=r"/dev/video97.*cannot be opened"):
        source.open()
    with pytest.raises(CameraError, match="non-negative"):
        OpenCVSource(-1)


def test_network_stream_is_live_and_keeps_its_password_out_of_messages() -> None:
    url = "rtsp://door:s3cret@127.0.0.1:9/stream"
    source = OpenCVSource(url)
    assert source.live
    assert source.name == "rtsp://***@127.0.0.1:9/stream"
    assert redact_url("rtsp://127.0.0.1/x") == "rtsp://127.0.0.1/x"
    with pytest.raises(CameraError) as info:
        source.open()
    assert "s3cret" not in str(info.value)
    assert "127.0.0.1:9" in str(info.value)


# -- ImageFolderSource --------------------------------------------------------------------------


def photo_folder(tmp_path: Path, n: int = 4) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, photo in enumerate(lfw_photos(n)):
        # Mixed suffixes and case: all are read, in name order.
        suffix = ".JPG" if i == 1 else ".jpg"
        shutil.copy(photo, folder / f"{i:02d}{suffix}")
    (folder / "notes.txt").write_text("not an image")
    (folder / ".hidden.jpg").write_bytes(b"hidden")
    return folder


def test_folder_reads_photos_in_order_and_skips_a_corrupt_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = photo_folder(tmp_path)
    (folder / "02a_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    source = ImageFolderSource(folder, fps=10.0)
    assert not source.live
    source.open()
    with caplog.at_level(logging.WARNING):
        frames = [f for f in iter(source.read, None)]
    source.close()
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert [f.t for f in frames] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    expected = [load_image(p) for p in lfw_photos(4)]
    assert all(np.array_equal(f.image, e) for f, e in zip(frames, expected, strict=True))
    assert all(f.image.dtype == np.uint8 and f.image.shape[2] == 3 for f in frames)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "02a_broken.jpg" in warnings[0]


def test_folder_loops_when_asked(tmp_path: Path) -> None:
    source = ImageFolderSource(photo_folder(tmp_path, 3), fps=5.0, loop=True)
    source.open()
    frames = [source.read() for _ in range(7)]
    source.close()
    assert [f.index for f in frames] == list(range(7))
    assert np.array_equal(frames[3].image, frames[0].image)
    assert frames[6].t == pytest.approx(6 / 5.0)


def test_empty_or_missing_folder_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no photos here")
    with pytest.raises(CameraError, match=r"empty: no images"):
        ImageFolderSource(empty).open()
    with pytest.raises(CameraError, match=r"absent: image folder does not exist"):
        ImageFolderSource(tmp_path / "absent").open()


def test_folder_of_only_unreadable_images_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    for name in ("a.jpg", "b.png"):
        (folder / name).write_bytes(b"garbage")
    source = ImageFolderSource(folder, loop=True)
    source.open()
    with pytest.raises(CameraError, match="none of the images can be read"):
        source.read()


# -- Picamera2Source ---------------------------------------------------------------------------


class StandInPicamera2:
    """The part of ``picamera2.Picamera2`` that Picamera2Source uses, same names and signatures.

    Frames are a real LFW photo at the configured size, in the byte order picamera2 gives for
    "RGB888" ([B, G, R]). ``fail`` makes one step raise as the real camera does when the
    ribbon cable is loose ("start") or no frame comes in time ("capture").
    """

    def __init__(
        self,
        camera_num: int = 0,
        verbose_console: Any = None,
        tuning: Any = None,
        allocator: Any = None,
        *,
        fail: str | None = None,
        log: list[Any] | None = None,
    ) -> None:
        self.camera_num = camera_num
        self.fail = fail
        self.log = log if log is not None else []
        self.config: dict[str, Any] | None = None
        self.photo = load_image(lfw_photos(1)[0])

    def create_video_configuration(
        self,
        main: dict | None = None,
        lores: dict | None = None,
        raw: dict | None = None,
        transform: Any = None,
        colour_space: Any = None,
        buffer_count: int = 6,
        controls: dict | None = None,
        display: str | None = "main",
        encode: str | None = "main",
        queue: bool = True,
        sensor: dict | None = None,
        use_case: str = "video",
    ) -> dict:
        self.log.append("create_video_configuration")
        return {
            "main": dict(main or {}),
            "controls": dict(controls or {}),
            "buffer_count": buffer_count,
            "use_case": use_case,
        }

    def configure(self, camera_config: Any = None) -> None:
        self.log.append("configure")
        self.config = camera_config

    def start(self, config: Any = None, show_preview: Any = False) -> None:
        self.log.append("start")
        if self.fail == "start":
            raise RuntimeError("Camera __init__ sequence did not complete.")

    def capture_array(self, name: str = "main", wait: Any = None, signal_function: Any = None):
        self.log.append(("capture_array", name, wait))
        if self.fail == "capture":
            raise TimeoutError("Job timed out")
        w, h = self.config["main"]["size"]
        return cv2.resize(self.photo, (w, h))

    def cancel_all_and_flush(self) -> None:
        self.log.append("cancel_all_and_flush")

    def stop(self) -> None:
        self.log.append("stop")

    def close(self) -> None:
        self.log.append("close")


def test_picamera2_is_configured_for_bgr_frames_at_size_and_rate() -> None:
    cams: list[StandInPicamera2] = []

    def factory(num: int) -> StandInPicamera2:
        cams.append(StandInPicamera2(num))
        return cams[-1]

    source = Picamera2Source(320, 240, 20.0, camera_num=1, picamera2_factory=factory)
    assert source.live and source.name == "Pi camera 1"
    source.open()
    frames = [source.read() for _ in range(3)]
    source.close()
    (cam,) = cams
    assert cam.camera_num == 1
    assert cam.config["main"] == {"size": (320, 240), "format": "RGB888"}
    assert cam.config["controls"] == {"FrameRate": 20.0}
    assert cam.config["buffer_count"] == source.buffer_count
    assert cam.log[:3] == ["create_video_configuration", "configure", "start"]
    assert ("capture_array", "main", source.capture_timeout_s) in cam.log
    assert cam.log[-2:] == ["stop", "close"]
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[0].t <= frames[1].t <= frames[2].t
    # RGB888 is already BGR in numpy: no channel swap.
    assert np.array_equal(frames[0].image, cv2.resize(cam.photo, (320, 240)))


def test_picamera2_failing_to_start_is_a_camera_error_and_releases_the_camera() -> None:
    log: list[Any] = []
    source = Picamera2Source(picamera2_factory=lambda n: StandInPicamera2(n, fail="start", log=log))
    with pytest.raises(CameraError, match=r"Pi camera 0: cannot be started .*did not complete"):
        source.open()
    assert log[-2:] == ["stop", "close"]


def test_picamera2_capture_failure_is_a_camera_error() -> None:
    log: list[Any] = []
    source = Picamera2Source(
        picamera2_factory=lambda n: StandInPicamera2(n, fail="capture", log=log)
    )
    source.open()
    with pytest.raises(CameraError, match=r"Pi camera 0: no frame \(TimeoutError"):
        source.read()
    source.close()
    assert log[-3:] == ["cancel_all_and_flush", "stop", "close"]


def test_no_camera_attached_is_a_camera_error() -> None:
    def no_camera(num: int) -> StandInPicamera2:
        raise IndexError("list index out of range")

    with pytest.raises(CameraError, match="Pi camera 0: cannot be started"):
        Picamera2Source(picamera2_factory=no_camera).open()


def test_missing_picamera2_module_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)
    with pytest.raises(CameraError, match=r"python3-picamera2.*--system-site-packages"):
        Picamera2Source().open()


def test_picamera2_needs_even_sizes() -> None:
    with pytest.raises(CameraError, match="even"):
        Picamera2Source(641, 480)


# -- CameraConfig and open_source ---------------------------------------------------------------


def test_camera_config_defaults_build_the_pi_camera() -> None:
    cfg = CameraConfig()
    assert (cfg.kind, cfg.width, cfg.height, cfg.fps) == ("picamera2", 640, 480, 15.0)
    source = open_source(cfg)
    assert isinstance(source, Picamera2Source) and source.camera_num == 0


@pytest.mark.parametrize(
    ("device", "live", "target"),
    [
        ("1", True, 1),
        ("rtsp://cam.local/stream", True, "rtsp://cam.local/stream"),
        ("clips/door.mp4", False, Path("clips/door.mp4")),
    ],
)
def test_open_source_picks_the_opencv_target(device: str, live: bool, target: object) -> None:
    source = open_source(CameraConfig(kind="opencv", device=device, width=320, height=240))
    assert isinstance(source, OpenCVSource)
    assert source.live is live and source.target == target
    assert (source.width, source.height) == (320, 240)


def test_open_source_folder(tmp_path: Path) -> None:
    source = open_source(CameraConfig(kind="folder", device=str(tmp_path), fps=5))
    assert isinstance(source, ImageFolderSource)
    assert source.folder == tmp_path and source.fps == 5.0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"width": 641}, "must be even"),
        ({"width": 100}, "greater than or equal to 160"),
        ({"height": 2000}, "less than or equal to 1080"),
        ({"fps": 0.5}, "greater than or equal to 1"),
        ({"device": "  "}, "must name a camera"),
        ({"device": "door.mp4"}, "Pi camera number"),
        ({"reopen_initial_s": 5, "reopen_max_s": 1}, "must not be below"),
        ({"resolution": 3}, "Extra inputs are not permitted"),
    ],
)
def test_camera_config_refuses_bad_values(values: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CameraConfig(**values)


def test_camera_config_is_frozen() -> None:
    with pytest.raises(ValidationError):
        CameraConfig().fps = 30  # type: ignore[misc]


def test_frame_is_immutable() -> None:
    frame = Frame(image=np.zeros((2, 2, 3), np.uint8), t=0.0, index=0)
    with pytest.raises(AttributeError):
        frame.index = 1  # type: ignore[misc]
