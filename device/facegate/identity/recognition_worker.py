"""Recognition off the camera loop: embed an attempt's best frames in a thread of its own.

The camera loop keeps tracking (a second face stepping in must still end the attempt) while
FaceNet runs. One job at a time; an answer for an attempt that has ended is dropped by the flow.

The 1:N search covers the whole gallery even when the session's students are given: a face
is accepted only as the nearest enrolled student overall. A face whose nearest student is
enrolled but not on this session's roster is answered as that student (the flow then says
``not_on_roster``), never as the roster's closest look-alike.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from facegate.access.best_frames import CandidateFrame
from facegate.access.flow import Recognition
from facegate.identity.matcher import ACCEPTED, NOT_A_CANDIDATE, Match
from facegate.identity.recognizer import Recognizer
from facegate.vision.detection import Detection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecognitionJob:
    attempt_id: str
    frames: list[CandidateFrame]
    candidates: tuple[str, ...] | None  # the session's students, or None for everyone


def average_embedding(vectors: list[np.ndarray]) -> np.ndarray:
    mean = np.mean(np.stack(vectors), axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def recognise(recognizer: Recognizer, job: RecognitionJob) -> Recognition:
    """Embed the frames (MTCNN confirms each face for FaceNet's crop) and match their mean."""
    started = time.perf_counter()
    pipeline = recognizer.pipeline
    vectors = []
    for frame in job.frames:
        vector = pipeline.embed(frame.image, Detection(frame.box, 1.0, "tracker"))
        if vector is not None:
            vectors.append(vector)
    if not vectors:
        return Recognition(job.attempt_id, None, "no_face", elapsed_ms=_since(started))
    probe = average_embedding(vectors)
    match: Match = recognizer.identify(probe, list(job.candidates) if job.candidates else None)
    student, distance = match.student_id, match.distance
    if match.reason == NOT_A_CANDIDATE:
        # The whole-gallery check: this face is another enrolled student, off the roster.
        student, distance = match.nearest_id, match.nearest_distance
    return Recognition(
        job.attempt_id,
        student,
        ACCEPTED if student is not None else match.reason,
        round(distance, 4) if distance is not None and np.isfinite(distance) else None,
        round(match.threshold, 4),
        _since(started),
    )


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


class RecognitionWorker:
    def __init__(self, recognizer: Callable[[], Recognizer]) -> None:
        self._recognizer = recognizer
        self._jobs: queue.Queue[RecognitionJob | None] = queue.Queue()
        self._results: queue.Queue[Recognition] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="recognition", daemon=True)
        self._thread.start()

    def submit(self, job: RecognitionJob) -> None:
        self._jobs.put(job)

    def poll(self) -> list[Recognition]:
        out = []
        while True:
            try:
                out.append(self._results.get_nowait())
            except queue.Empty:
                return out

    def wait(self, timeout: float) -> Recognition | None:
        try:
            return self._results.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                result = recognise(self._recognizer(), job)
            except Exception:
                # A failed embedding denies this attempt; it must not stop later attempts.
                log.exception("recognition failed for attempt %s", job.attempt_id)
                result = Recognition(job.attempt_id, None, "recognition_error")
            self._results.put(result)
