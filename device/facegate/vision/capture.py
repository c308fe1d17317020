"""The capture thread: frames keep flowing while detection and embedding take their time.

In live mode the thread keeps only the newest frame: a door camera must show what is in front
of it now, not what was there a second ago, so a slow consumer makes frames drop, never queue.
In lockstep mode (files, tests, the demo, benchmarks) the reader waits for the consumer, so
every frame is seen and a run is reproducible.

A source that fails is closed and reopened with exponential back-off; the thread does not die
from a source error. A camera that has given no frame for ``dead_after_s`` raises one
``camera_error`` alarm, and ``camera_restored`` follows when frames come back. A separate
watchdog thread raises the alarm, so that a read that hangs instead of failing is noticed too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from facegate.vision.sources.base import CameraError, Frame, FrameSource

log = logging.getLogger(__name__)

AlarmCallback = Callable[[str, dict[str, Any]], None]


class CaptureThread:
    """Reads a frame source on a daemon thread and hands the consumer the newest frame.

    ``make_source`` is called for every (re)open, so it may return a fresh source object or
    the same one again. The thread starts at construction; use it as a context manager or call
    :meth:`stop`. ``clock`` times the alarms (seconds, monotonic).
    """

    def __init__(
        self,
        make_source: Callable[[], FrameSource],
        *,
        lockstep: bool = False,
        reopen_initial_s: float = 0.5,
        reopen_max_s: float = 30.0,
        dead_after_s: float = 10.0,
        on_alarm: AlarmCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
        join_timeout_s: float = 5.0,
    ) -> None:
        if not 0 < reopen_initial_s <= reopen_max_s:
            raise ValueError("need 0 < reopen_initial_s <= reopen_max_s")
        if not dead_after_s > 0 or not join_timeout_s > 0:
            raise ValueError("dead_after_s and join_timeout_s must be positive")
        self._make_source = make_source
        self._lockstep = lockstep
        self._reopen_initial_s = reopen_initial_s
        self._reopen_max_s = reopen_max_s
        self._dead_after_s = dead_after_s
        self._on_alarm = on_alarm
        self._clock = clock
        self._join_timeout_s = join_timeout_s

        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._slot: Frame | None = None
        self._ended = False
        self._finished = False
        self._waiting_for_consumer = False
        self._captured = 0
        self._dropped = 0
        self._last_error: Exception | None = None
        self._error_since_frame: Exception | None = None
        self._source_name = "camera"
        self._last_progress = clock()

        # Serialises the two alarms so that camera_restored never overtakes camera_error.
        self._alarm_lock = threading.Lock()
        self._alarmed_since: float | None = None

        self._thread = threading.Thread(target=self._run, name="facegate-capture", daemon=True)
        self._watchdog = threading.Thread(
            target=self._watch, name="facegate-capture-watchdog", daemon=True
        )
        self._thread.start()
        self._watchdog.start()

    # -- consumer side -----------------------------------------------------------------------

    def get(self, timeout: float = 1.0) -> Frame | None:
        """A frame newer than the last one returned, or None on timeout, end or stop."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while self._slot is None:
                if self._ended or self._finished or self._stopping.is_set():
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            frame, self._slot = self._slot, None
            self._cond.notify_all()
            return frame

    def stop(self) -> None:
        """Stop reading, close the source and join the threads; safe to call again."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        current = threading.current_thread()
        for thread in (self._thread, self._watchdog):
            if thread is not current and thread.is_alive():
                thread.join(self._join_timeout_s)
        if self._thread.is_alive() and self._thread is not current:
            log.warning(
                "capture thread for %s did not stop within %.1f s (a read is blocked)",
                self._source_name,
                self._join_timeout_s,
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def frames_captured(self) -> int:
        with self._cond:
            return self._captured

    @property
    def frames_dropped(self) -> int:
        """Frames replaced in the slot before the consumer took them (always 0 in lockstep)."""
        with self._cond:
            return self._dropped

    @property
    def last_error(self) -> Exception | None:
        """The most recent open or read failure, kept after the source recovers."""
        return self._last_error

    @property
    def ended(self) -> bool:
        """True once a finite source (file, folder) has delivered its last frame."""
        with self._cond:
            return self._ended

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def source_name(self) -> str:
        return self._source_name

    # -- reader thread -----------------------------------------------------------------------

    def _run(self) -> None:
        source: FrameSource | None = None
        delay = self._reopen_initial_s
        try:
            while not self._stopping.is_set():
                if source is None:
                    source = self._open(delay)
                    if source is None:
                        self._stopping.wait(delay)
                        delay = min(delay * 2, self._reopen_max_s)
                        continue
                try:
                    frame = source.read()
                except Exception as exc:
                    self._failed(exc, "read", delay)
                    self._close(source)
                    source = None
                    self._stopping.wait(delay)
                    delay = min(delay * 2, self._reopen_max_s)
                    continue
                if frame is None:
                    log.info("%s ended after %d frames", self._source_name, self._captured)
                    with self._cond:
                        self._ended = True
                        self._cond.notify_all()
                    return
                delay = self._reopen_initial_s
                self._publish(frame)
        finally:
            if source is not None:
                self._close(source)
            with self._cond:
                self._finished = True
                self._cond.notify_all()

    def _open(self, delay: float) -> FrameSource | None:
        source: FrameSource | None = None
        try:
            source = self._make_source()
            self._source_name = str(getattr(source, "name", "camera"))
            source.open()
        except Exception as exc:
            self._failed(exc, "open", delay)
            if source is not None:
                self._close(source)
            return None
        log.info("capturing from %s", self._source_name)
        return source

    def _failed(self, exc: Exception, what: str, delay: float) -> None:
        self._last_error = exc
        self._error_since_frame = exc
        if isinstance(exc, CameraError):
            log.warning("%s failed: %s; retrying in %.1f s", what, exc, delay)
        else:
            log.error(
                "unexpected error on %s of %s; retrying in %.1f s",
                what,
                self._source_name,
                delay,
                exc_info=exc,
            )

    def _close(self, source: FrameSource) -> None:
        try:
            source.close()
        except Exception as exc:
            log.warning("closing %s failed: %s", self._source_name, exc)

    def _publish(self, frame: Frame) -> None:
        with self._cond:
            if self._lockstep:
                self._waiting_for_consumer = True
                while self._slot is not None and not self._stopping.is_set():
                    self._cond.wait()
                self._waiting_for_consumer = False
                if self._stopping.is_set():
                    return
            elif self._slot is not None:
                self._dropped += 1
            self._slot = frame
            self._captured += 1
            self._last_progress = self._clock()
            self._error_since_frame = None
            self._cond.notify_all()
        if self._alarmed_since is not None:
            self._restored()

    # -- alarms ------------------------------------------------------------------------------

    def _watch(self) -> None:
        interval = min(1.0, max(0.02, self._dead_after_s / 5))
        while not self._stopping.wait(interval):
            with self._cond:
                if self._ended or self._finished:
                    return
                if self._waiting_for_consumer:
                    continue
                since = self._last_progress
            down = self._clock() - since
            if down < self._dead_after_s:
                continue
            with self._alarm_lock:
                if self._alarmed_since is not None or self._last_progress != since:
                    continue
                self._alarmed_since = since
                error = self._error_since_frame
                self._emit(
                    "camera_error",
                    {
                        "source": self._source_name,
                        "error": str(error) if error is not None else "no frame",
                        "down_s": round(down, 1),
                    },
                )

    def _restored(self) -> None:
        with self._alarm_lock:
            if self._alarmed_since is None:
                return
            down = self._clock() - self._alarmed_since
            self._alarmed_since = None
            self._emit("camera_restored", {"source": self._source_name, "down_s": round(down, 1)})

    def _emit(self, alarm: str, details: dict[str, Any]) -> None:
        if alarm == "camera_error":
            log.error("alarm %s: %s", alarm, details)
        else:
            log.info("alarm %s: %s", alarm, details)
        if self._on_alarm is None:
            return
        try:
            self._on_alarm(alarm, details)
        except Exception:
            log.exception("alarm handler failed for %s", alarm)
