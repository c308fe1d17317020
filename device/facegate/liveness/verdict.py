"""One attempt's liveness: feed face samples, get live / spoof / timeout with the evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facegate.config.liveness import LivenessConfig
from facegate.liveness.blinks import BlinkDetector
from facegate.liveness.challenge import Challenge
from facegate.liveness.eye_frame import eye_frame
from facegate.liveness.static_face import StaticFaceCheck
from facegate.vision.face_sample import FaceSample

# Reasons, as the access event names them.
LIVE = "live"
SPOOF_STATIC = "spoof_static"
NO_BLINK = "no_blink"
CHALLENGE_FAILED = "challenge_failed"
# With no_blink: most of the face's frames were below min_face_px ("come closer").
FACE_TOO_SMALL = "face_too_small"


@dataclass(frozen=True)
class LivenessVerdict:
    outcome: str  # "live", "spoof" or "timeout"
    reasons: tuple[str, ...]
    at: float
    evidence: dict = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.outcome == "live"


class LivenessCheck:
    """The liveness part of one attempt, started at ``started`` (seconds, the samples' clock).

    With a challenge, only blinks in its window count and their number must match; without,
    one blink within ``timeout_s`` is enough. A static face ends the attempt as a spoof as soon
    as its window is full. :meth:`add` returns the verdict once there is one, and
    :meth:`expire` ends the attempt at a given time (the caller's clock).
    """

    def __init__(
        self,
        started: float,
        params: LivenessConfig | None = None,
        challenge: Challenge | None = None,
    ) -> None:
        self.p = params or LivenessConfig()
        self.started = started
        self.challenge = challenge
        self.blinks = BlinkDetector(self.p)
        self.static = StaticFaceCheck(self.p)
        self._previous: FaceSample | None = None
        self._ears: list[float] = []
        self._pitch: list[float] = []
        self._yaw: list[float] = []
        self._samples = 0
        self.verdict: LivenessVerdict | None = None

    @property
    def deadline(self) -> float:
        return self.challenge.end if self.challenge else self.started + self.p.timeout_s

    def add(self, sample: FaceSample) -> LivenessVerdict | None:
        if self.verdict is not None:
            return self.verdict
        frame = eye_frame(sample, self._previous)
        self._previous = sample
        self._samples += 1
        self._ears.append(frame.mean)
        self._pitch.append(frame.pitch)
        self._yaw.append(frame.yaw)
        self.blinks.add(frame)
        measure = self.static.add(sample.t, sample.landmarks, frame.mean)
        if measure is not None and self.static.is_static(measure) and not self.blinks.blinks:
            return self._end("spoof", (SPOOF_STATIC,), sample.t)
        return self._decide(sample.t)

    def expire(self, now: float) -> LivenessVerdict:
        """The attempt's time is up (or the face left): decide with what was seen."""
        if self.verdict is not None:
            return self.verdict
        at = max(now, self.deadline)
        return self._decide(at) or self._end("timeout", self._no_blink(), at)

    def _decide(self, now: float) -> LivenessVerdict | None:
        self.blinks.settle(now)
        if self.challenge is not None:
            outcome = self.challenge.outcome(self.blinks.blinks, now)
            if outcome == "passed":
                return self._end("live", (LIVE,), now)
            if outcome in ("too_many", "too_few"):
                return self._end("timeout", (CHALLENGE_FAILED, outcome), now)
            if outcome == "none":
                return self._end("timeout", self._no_blink(), now)
            return None
        seen = [b for b in self.blinks.blinks if b.closed_start >= self.started]
        if seen:
            return self._end("live", (LIVE,), now)
        # A blink under way at the deadline may finish (within max_dip_s); closed eyes held
        # longer than that do not keep the attempt open.
        closing = self.blinks.closing_since()
        if now >= self.deadline and (closing is None or now - closing > self.p.max_dip_s):
            return self._end("timeout", self._no_blink(), now)
        return None

    def too_small(self) -> bool:
        """Most frames so far showed the face below ``min_face_px``: the student should come
        closer (their blinks are not taken as evidence)."""
        return 2 * self.blinks.small_frames > self.blinks.frames

    def _no_blink(self) -> tuple[str, ...]:
        return (NO_BLINK, FACE_TOO_SMALL) if self.too_small() else (NO_BLINK,)

    def _end(self, outcome: str, reasons: tuple[str, ...], now: float) -> LivenessVerdict:
        self.verdict = LivenessVerdict(outcome, reasons, now, self._evidence())
        return self.verdict

    def _evidence(self) -> dict:
        """What the access event carries: no image, no landmarks, only measurements."""
        base = self.blinks.baseline()
        ears = np.array(self._ears) if self._ears else np.zeros(1)
        static = self.static.last
        return {
            "samples": self._samples,
            "blinks": [b.as_evidence() for b in self.blinks.blinks],
            "rejected_dips": [b.as_evidence() for b in self.blinks.rejected[-5:]],
            "ear_baseline": [round(v, 3) for v in base] if base else None,
            "ear_min": round(float(ears.min()), 3),
            "small_face_samples": self.blinks.small_frames,
            "pitch_range": _range(self._pitch),
            "yaw_range": _range(self._yaw),
            "static": static.as_evidence() if static else None,
            "challenge": self.challenge.as_evidence() if self.challenge else None,
        }


def _range(values: list[float]) -> list[float] | None:
    clean = [v for v in values if np.isfinite(v)]
    return [round(min(clean), 1), round(max(clean), 1)] if clean else None
