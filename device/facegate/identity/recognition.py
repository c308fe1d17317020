"""One attempt's recognition: embed its frames and name the student, or say why not.

Runs in the recognition worker's thread (:mod:`facegate.identity.recognition_worker`), off the
camera loop.

The attempt is bound to one person. Besides its best frames (largest, frontal, eyes open),
the job carries *witness* frames: one from around each blink that liveness counted, and those
where the tracker saw the face change abruptly. Every embedded frame must lie within
``bind_limit`` (cosine distance) of the best frames' mean, else the attempt ends as
``face_changed``: the face that blinked is the face that is recognised (a live stranger who
blinks and then holds up an enrolled student's photo is refused). The limit separates the same
person across a blink from two people (docs/liveness.md, "One face per attempt").

The 1:N search covers the whole gallery even when the session's students are given: a face is
accepted only as the nearest enrolled student overall. A face whose nearest student is
enrolled but not on this session's roster is answered as that student (the flow then says
``not_on_roster``), never as the roster's closest look-alike (docs/recognition.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from facegate.identity.attempt_frames import CandidateFrame
from facegate.identity.matcher import ACCEPTED, NOT_A_CANDIDATE, Match
from facegate.identity.recognizer import Recognizer
from facegate.vision.detection import Detection

FACE_CHANGED = "face_changed"
FACE_UNVERIFIED = "face_unverified"


@dataclass(frozen=True)
class Recognition:
    """The recognition worker's answer for an attempt."""

    attempt_id: str
    student_id: str | None
    reason: str  # "match", or why not: "unknown_face", "no_face", "face_changed", ...
    distance: float | None = None
    threshold: float | None = None
    elapsed_ms: float | None = None  # the worker's own time (a file run's clock stands still)
    binding: float | None = None  # the largest distance of a frame from the attempt's face
    bind_limit: float | None = None

    def scores(self) -> dict:
        """What the access event carries: distances and limits, never a template."""
        out: dict = {"distance": self.distance, "threshold": self.threshold, "match": self.reason}
        if self.binding is not None:
            out["binding"] = self.binding
            out["bind_limit"] = self.bind_limit
        return out


@dataclass(frozen=True)
class RecognitionJob:
    attempt_id: str
    frames: list[CandidateFrame]
    candidates: tuple[str, ...] | None  # the session's students, or None for everyone
    witnesses: list[CandidateFrame] = field(default_factory=list)
    bind_limit: float = 2.0


def average_embedding(vectors: list[np.ndarray]) -> np.ndarray:
    mean = np.mean(np.stack(vectors), axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


Embed = Callable[[CandidateFrame], "np.ndarray | None"]


def embed_frame(recognizer: Recognizer, frame: CandidateFrame) -> np.ndarray | None:
    """The frame's embedding; None when MTCNN does not confirm a face in the tracker's box."""
    return recognizer.pipeline.embed(frame.image, Detection(frame.box, 1.0, "tracker"))


def recognise(
    recognizer: Recognizer, job: RecognitionJob, embed: Embed | None = None
) -> Recognition:
    """Embed the frames, check they show one person, match their mean.

    ``embed`` may answer from the worker's cache (witnesses embedded ahead, while liveness
    still ran).
    """
    started = time.perf_counter()
    embed = embed or (lambda frame: embed_frame(recognizer, frame))
    vectors = [v for v in map(embed, job.frames) if v is not None]
    if not vectors:
        return Recognition(job.attempt_id, None, "no_face", elapsed_ms=_since(started))
    probe = average_embedding(vectors)
    binding: float | None = None
    if job.witnesses:
        witnesses = [v for v in map(embed, job.witnesses) if v is not None]
        if not witnesses:
            # The face that blinked cannot be shown to be this face: no grant on a guess.
            return Recognition(job.attempt_id, None, FACE_UNVERIFIED, elapsed_ms=_since(started))
        binding = round(max(1.0 - float(v @ probe) for v in [*vectors, *witnesses]), 4)
        if binding > job.bind_limit:
            return Recognition(
                job.attempt_id,
                None,
                FACE_CHANGED,
                elapsed_ms=_since(started),
                binding=binding,
                bind_limit=job.bind_limit,
            )
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
        binding,
        job.bind_limit if binding is not None else None,
    )


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
