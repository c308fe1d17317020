"""Recognition off the camera loop: embed an attempt's frames in a thread of its own.

The camera loop keeps tracking (a second face stepping in must still end the attempt) while
FaceNet runs. Jobs run one at a time, in order. Witness frames (around each blink) are sent
ahead with :meth:`RecognitionWorker.prepare` while liveness still runs, so their embeddings
are ready when the attempt's recognition job comes and the wait after the last blink stays
that of the best frames alone. An answer for an attempt that has ended is dropped by the flow.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from facegate.identity.attempt_frames import CandidateFrame
from facegate.identity.recognition import Recognition, RecognitionJob, embed_frame, recognise
from facegate.identity.recognizer import Recognizer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Prepare:
    attempt_id: str
    frames: list[CandidateFrame]


class RecognitionWorker:
    def __init__(self, recognizer: Callable[[], Recognizer]) -> None:
        self._recognizer = recognizer
        self._jobs: queue.Queue[RecognitionJob | _Prepare | None] = queue.Queue()
        self._results: queue.Queue[Recognition] = queue.Queue()
        # Embeddings made ahead, for one attempt at a time; only the worker thread touches it.
        self._ahead_for: str | None = None
        self._ahead: dict[int, np.ndarray | None] = {}  # by CandidateFrame.seq
        self._thread = threading.Thread(target=self._run, name="recognition", daemon=True)
        self._thread.start()

    def prepare(self, attempt_id: str, frames: list[CandidateFrame]) -> None:
        """Embed these frames of the attempt now, to be used by its recognition job."""
        if frames:
            self._jobs.put(_Prepare(attempt_id, frames))

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

    def _embed(self, recognizer: Recognizer, attempt_id: str, frame: CandidateFrame):
        if self._ahead_for != attempt_id:
            self._ahead_for, self._ahead = attempt_id, {}
        if frame.seq not in self._ahead:
            self._ahead[frame.seq] = embed_frame(recognizer, frame)
        return self._ahead[frame.seq]

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            recognizer = self._recognizer()
            if isinstance(job, _Prepare):
                try:
                    for frame in job.frames:
                        self._embed(recognizer, job.attempt_id, frame)
                except Exception:
                    log.exception("embedding ahead failed for attempt %s", job.attempt_id)
                continue
            try:
                result = recognise(
                    recognizer,
                    job,
                    lambda f, r=recognizer, j=job: self._embed(r, j.attempt_id, f),
                )
            except Exception:
                # A failed embedding denies this attempt; it must not stop later attempts.
                log.exception("recognition failed for attempt %s", job.attempt_id)
                result = Recognition(job.attempt_id, None, "recognition_error")
            self._ahead_for, self._ahead = None, {}
            self._results.put(result)
