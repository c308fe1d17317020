"""The capture thread over real videos: lockstep order, newest-frame hand-off, reopen, alarms.

Faults are injected by subclasses of the real OpenCV source (an open or a read that raises a
given number of times); everything else is OpenCV decoding real files. Timing bounds are
generous: these run on a loaded 2-core machine.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from facegate.vision.capture import CaptureThread
from facegate.vision.image_io import load_image
from facegate.vision.sources import CameraError, Frame, OpenCVSource

from .conftest import shared


def blink_video() -> Path:
    return shared("blink", "liveportrait", "d13.mp4")


def write_video(path: Path, n: int, fps: float = 10.0) -> Path:
    """An mp4v video of ``n`` 96x96 frames cut from a real LFW photo."""
    photo = load_image(sorted(shared("identities", "lfw10", "Tony_Blair").glob("*.jpg"))[0])
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (96, 96))
    assert writer.isOpened()
    for i in range(n):
        writer.write(np.ascontiguousarray(photo[40 + i % 20 : 136 + i % 20, 60:156]))
    writer.release()
    return path


class LiveVideo(OpenCVSource):
    """A real video read the way a camera delivers it: at its own frame rate, live, monotonic
    time, and a failed read is an error."""

    def __init__(self, target: Path, **kwargs: Any) -> None:
        super().__init__(target, **kwargs)
        self.live = True
        self._due = 0.0

    def read(self) -> Frame | None:
        now = time.monotonic()
        if self._due > now:
            time.sleep(self._due - now)
        self._due = max(now, self._due) + 1.0 / self.file_fps
        return super().read()


class FlakyOpen(LiveVideo):
    """Fault injector: the first ``failures`` calls to open raise, as an unplugged camera does."""

    def __init__(self, target: Path, failures: int) -> None:
        super().__init__(target)
        self.failures = failures
        self.open_times: list[float] = []

    def open(self) -> None:
        self.open_times.append(time.monotonic())
        if len(self.open_times) <= self.failures:
            raise CameraError(f"{self.name}: simulated unplugged camera")
        super().open()


class FlakyRead(OpenCVSource):
    """Fault injector: the ``fail_at``-th read after the first open raises ``error``."""

    def __init__(self, target: Path, fail_at: int, error: Exception) -> None:
        super().__init__(target)
        self.fail_at = fail_at
        self.error = error
        self.opens = 0
        self.reads = 0

    def open(self) -> None:
        self.opens += 1
        self.reads = 0
        super().open()

    def read(self) -> Frame | None:
        self.reads += 1
        if self.opens == 1 and self.reads == self.fail_at:
            raise self.error
        return super().read()


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def capture_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("facegate-capture")]


def test_lockstep_delivers_every_frame_of_a_real_video_in_order() -> None:
    path = blink_video()
    cap = cv2.VideoCapture(str(path))
    expected = 0
    while cap.grab():
        expected += 1
    cap.release()

    with CaptureThread(lambda: OpenCVSource(path), lockstep=True) as capture:
        indexes = []
        while (frame := capture.get(timeout=20.0)) is not None:
            indexes.append(frame.index)
            if frame.index in (5, 100):
                time.sleep(0.3)  # a slow consumer: in lockstep nothing is dropped
        assert capture.ended
        started = time.monotonic()
        assert capture.get(timeout=10.0) is None
        assert time.monotonic() - started < 1.0
        assert capture.frames_dropped == 0
        assert capture.frames_captured == expected
        assert capture.last_error is None
    assert indexes == list(range(expected))
    assert not capture.alive


def test_live_mode_drops_old_frames_and_hands_on_the_newest() -> None:
    path = blink_video()
    with CaptureThread(lambda: LiveVideo(path)) as capture:
        seen = []
        for _ in range(8):
            time.sleep(0.1)  # a consumer at 10 fps behind a 30 fps camera
            captured_before = capture.frames_captured
            frame = capture.get(timeout=20.0)
            assert frame is not None
            # The frame handed on is the newest in the slot, not a queued old one.
            assert frame.index >= captured_before - 1
            seen.append(frame.index)
        assert capture.frames_dropped > 0
        assert capture.frames_captured > len(seen)
    assert seen == sorted(seen) and len(set(seen)) == len(seen)


def test_a_camera_that_fails_to_open_is_reopened_with_back_off_and_alarms_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = FlakyOpen(blink_video(), failures=5)
    alarms: list[tuple[str, dict]] = []
    with (
        caplog.at_level(logging.WARNING, logger="facegate.vision.capture"),
        CaptureThread(
            lambda: source,
            reopen_initial_s=0.1,
            reopen_max_s=0.4,
            dead_after_s=0.6,
            on_alarm=lambda name, details: alarms.append((name, details)),
        ) as capture,
    ):
        frame = capture.get(timeout=30.0)
        assert frame is not None
        assert wait_for(lambda: len(alarms) == 2)
        time.sleep(0.5)  # no further alarm while frames flow
        assert capture.alive
        assert "simulated unplugged camera" in str(capture.last_error)

    assert len(source.open_times) == 6
    expected = [0.1, 0.2, 0.4, 0.4, 0.4]
    logged = [
        float(m.group(1))
        for r in caplog.records
        if (m := re.search(r"retrying in ([0-9.]+) s", r.getMessage()))
    ]
    assert logged == expected
    gaps = np.diff(source.open_times)
    assert all(gap >= 0.9 * want for gap, want in zip(gaps, expected, strict=True))

    assert [name for name, _ in alarms] == ["camera_error", "camera_restored"]
    error, restored = alarms[0][1], alarms[1][1]
    assert error["source"] == source.name
    assert "simulated unplugged camera" in error["error"]
    assert error["down_s"] >= 0.6
    assert restored["source"] == source.name
    assert restored["down_s"] >= error["down_s"]


@pytest.mark.parametrize(
    "error", [CameraError("simulated read failure"), RuntimeError("simulated driver bug")]
)
def test_a_read_error_mid_stream_reopens_the_source(tmp_path: Path, error: Exception) -> None:
    source = FlakyRead(write_video(tmp_path / "clip.mp4", 12), fail_at=5, error=error)
    with CaptureThread(lambda: source, lockstep=True, reopen_initial_s=0.05) as capture:
        indexes = [f.index for f in iter(lambda: capture.get(timeout=20.0), None)]
        assert capture.ended
        assert capture.last_error is error
    # Four frames, the failure, then the file again from its start after the reopen.
    assert indexes == [0, 1, 2, 3, *range(12)]
    assert source.opens == 2


def test_a_failing_source_factory_does_not_kill_the_thread(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", 3)
    calls = []

    def make_source() -> OpenCVSource:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("simulated: device node not there yet")
        return OpenCVSource(path)

    with CaptureThread(make_source, lockstep=True, reopen_initial_s=0.05) as capture:
        assert [f.index for f in iter(lambda: capture.get(timeout=20.0), None)] == [0, 1, 2]
    assert len(calls) == 3


def test_an_alarm_handler_that_raises_does_not_stop_capture(tmp_path: Path) -> None:
    source = FlakyOpen(write_video(tmp_path / "clip.mp4", 30), failures=2)
    called = []

    def broken_handler(name: str, details: dict) -> None:
        called.append(name)
        raise ValueError("handler bug")

    with CaptureThread(
        lambda: source, reopen_initial_s=0.2, dead_after_s=0.1, on_alarm=broken_handler
    ) as capture:
        assert capture.get(timeout=30.0) is not None
        assert wait_for(lambda: called == ["camera_error", "camera_restored"])
        assert capture.get(timeout=30.0) is not None
        assert capture.alive


def test_stop_returns_promptly_while_the_reader_waits_for_the_consumer() -> None:
    capture = CaptureThread(lambda: OpenCVSource(blink_video()), lockstep=True)
    assert wait_for(lambda: capture.frames_captured == 1)
    time.sleep(0.2)
    assert capture.frames_captured == 1  # blocked: the first frame was never taken
    started = time.monotonic()
    capture.stop()
    assert time.monotonic() - started < 3.0
    assert not capture.alive
    capture.stop()  # idempotent
    assert capture_threads() == []


def test_stop_wakes_a_blocked_get_and_interrupts_the_back_off() -> None:
    source = FlakyOpen(blink_video(), failures=1000)
    capture = CaptureThread(lambda: source, reopen_initial_s=30.0, reopen_max_s=60.0)
    results: list[Frame | None] = []
    getter = threading.Thread(target=lambda: results.append(capture.get(timeout=60.0)))
    getter.start()
    assert wait_for(lambda: len(source.open_times) == 1)
    started = time.monotonic()
    capture.stop()
    getter.join(5.0)
    assert time.monotonic() - started < 3.0
    assert not getter.is_alive() and results == [None]
    assert not capture.alive
    assert capture_threads() == []


def test_stop_closes_the_source(tmp_path: Path) -> None:
    closed = []

    class Recording(OpenCVSource):
        def close(self) -> None:
            closed.append(self._cap is not None)
            super().close()

    with CaptureThread(lambda: Recording(write_video(tmp_path / "c.mp4", 20)), lockstep=True) as c:
        assert c.get(timeout=20.0) is not None
    assert True in closed
    assert capture_threads() == []
