"""The access flow: one attempt from a face appearing to exactly one decision.

Pure logic. The camera loop feeds it observations with their time; the recognition worker and
the keypad answer its requests; it answers with *effects* (prompt, recognise, ask for a code,
unlock, decision) that the daemon carries out. Time comes in with every call, wall-clock time
(for the exam session) from an injected clock, so tests run it on a synthetic timeline.

    idle -> liveness (random challenge) -> recognition -> policy -> [second factor]
         -> granted / denied -> cooldown -> idle

Liveness and recognition must be about the same tracked face: a new track, or a second face in
view, ends the attempt (``face_changed``) and the next one starts from the beginning.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from facegate.access.roster import Roster
from facegate.config.liveness import LivenessConfig
from facegate.events.access_event import AccessEvent
from facegate.identity.totp import CodeResult, Verdict
from facegate.liveness.challenge import Challenge, draw_challenge
from facegate.liveness.samples import FaceSample
from facegate.liveness.verdict import LivenessCheck


class Phase(StrEnum):
    IDLE = "idle"
    LIVENESS = "liveness"
    RECOGNITION = "recognition"
    SECOND_FACTOR = "second_factor"
    COOLDOWN = "cooldown"


@dataclass(frozen=True)
class Observation:
    """The camera loop's view of one frame: the tracked face (or None) and its track id."""

    t: float
    face: FaceSample | None
    track_id: int = 0
    faces_in_view: int = 1


@dataclass(frozen=True)
class Recognition:
    """The recognition worker's answer for an attempt."""

    attempt_id: str
    student_id: str | None
    reason: str  # "match", or why not: "unknown_face", "no_face", ...
    distance: float | None = None
    threshold: float | None = None
    elapsed_ms: float | None = None  # the worker's own time (a file run's clock stands still)


# -- effects ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    challenge: Challenge


@dataclass(frozen=True)
class ClearPrompt:
    pass


@dataclass(frozen=True)
class Recognise:
    """Embed the best frame(s) of this attempt's track, off the capture thread."""

    attempt_id: str
    track_id: int


@dataclass(frozen=True)
class AskCode:
    attempt_id: str
    student_id: str
    until: float


@dataclass(frozen=True)
class Unlock:
    attempt_id: str


@dataclass(frozen=True)
class Decided:
    event: AccessEvent


Effect = Prompt | ClearPrompt | Recognise | AskCode | Unlock | Decided


@dataclass(frozen=True)
class FlowSettings:
    device_id: str = "door-1"
    room: str = ""
    liveness: LivenessConfig = field(default_factory=LivenessConfig)
    face_lost_s: float = 1.0
    recognition_timeout_s: float = 5.0
    code_timeout_s: float = 30.0
    cooldown_s: float = 2.0


@dataclass
class _Attempt:
    id: str
    track_id: int
    started: float
    liveness: LivenessCheck
    last_seen: float
    live_at: float | None = None
    recognition: Recognition | None = None
    recognised_at: float | None = None
    session_id: str | None = None
    code_until: float | None = None
    code_result: CodeResult | None = None


class AccessFlow:
    def __init__(
        self,
        settings: FlowSettings,
        roster: Callable[[], Roster],
        wall_clock: Callable[[], datetime],
        verify_code: Callable[[str, str], Verdict],
    ) -> None:
        self.s = settings
        self._roster = roster
        self._wall = wall_clock
        self._verify = verify_code
        self.phase = Phase.IDLE
        self.lockdown = False
        self._attempt: _Attempt | None = None
        self._cooldown_until = 0.0
        self._granted_track: int | None = None

    # -- inputs ------------------------------------------------------------------------------

    def on_frame(self, obs: Observation) -> list[Effect]:
        if self.phase is Phase.COOLDOWN:
            if obs.t < self._cooldown_until:
                return []
            self.phase = Phase.IDLE
        if self.phase is Phase.IDLE:
            if obs.face is None or obs.track_id != self._granted_track:
                self._granted_track = None
            if obs.face is None or self._granted_track is not None:
                return []  # a student let in starts no new attempt until they have walked on
            return self._start(obs)
        a = self._attempt
        assert a is not None
        if obs.face is None:
            if obs.t - a.last_seen > self.s.face_lost_s:
                return self._deny(obs.t, ("face_lost",))
            return self._tick(obs.t)
        if obs.track_id != a.track_id or obs.faces_in_view > 1:
            return self._deny(obs.t, ("face_changed",))
        a.last_seen = obs.t
        if self.phase is Phase.LIVENESS:
            verdict = a.liveness.add(obs.face)
            if verdict is not None:
                return self._after_liveness(obs.t)
        return self._tick(obs.t)

    def on_tick(self, t: float) -> list[Effect]:
        """Time passes without frames (a stalled camera): deadlines still apply."""
        if self.phase in (Phase.IDLE, Phase.COOLDOWN) or self._attempt is None:
            return []
        a = self._attempt
        if t - a.last_seen > self.s.face_lost_s:
            return self._deny(t, ("face_lost",))
        return self._tick(t)

    def on_recognition(self, result: Recognition, t: float) -> list[Effect]:
        a = self._attempt
        if self.phase is not Phase.RECOGNITION or a is None or result.attempt_id != a.id:
            return []  # late answer for an attempt that already ended
        a.recognition = result
        a.recognised_at = t
        if result.student_id is None:
            return self._deny(t, (result.reason or "unknown_face",))
        session = self._roster().current(self.s.room, self._wall())
        a.session_id = session.id if session is not None else None
        if self.lockdown:
            return self._deny(t, ("lockdown",))
        if session is None:
            return self._deny(t, ("no_session",))
        if not session.allows(result.student_id):
            return self._deny(t, ("not_on_roster",))
        if session.second_factor:
            self.phase = Phase.SECOND_FACTOR
            a.code_until = t + self.s.code_timeout_s
            return [AskCode(a.id, result.student_id, a.code_until)]
        return self._grant(t)

    def on_code(self, attempt_id: str, code: str, t: float) -> list[Effect]:
        a = self._attempt
        if self.phase is not Phase.SECOND_FACTOR or a is None or attempt_id != a.id:
            return []
        assert a.recognition is not None and a.recognition.student_id is not None
        verdict = self._verify(a.recognition.student_id, code)
        a.code_result = verdict.result
        if verdict.accepted:
            return self._grant(t)
        if verdict.result is CodeResult.LOCKED_OUT:
            return self._deny(t, ("locked_out",))
        if verdict.result is CodeResult.NOT_ENROLLED:
            return self._deny(t, ("totp_not_enrolled",))
        # A wrong or replayed code may be typed again until the code window ends (the store's
        # back-off decides when that turns into a lockout); a malformed one changes nothing.
        return []

    def abort(self, t: float, reason: str) -> list[Effect]:
        """End the attempt under way, if any, for a reason outside the flow (camera_error)."""
        if self._attempt is None or self.phase in (Phase.IDLE, Phase.COOLDOWN):
            return []
        return self._deny(t, (reason,))

    # -- steps -------------------------------------------------------------------------------

    def _start(self, obs: Observation) -> list[Effect]:
        assert obs.face is not None
        if obs.faces_in_view > 1:
            return []  # wait until one person stands at the door
        attempt_id = f"{self.s.device_id}-{int(obs.t * 1000):x}-{secrets.token_hex(3)}"
        params = self.s.liveness
        challenge = draw_challenge(obs.t, params) if params.challenge else None
        check = LivenessCheck(obs.t, params, challenge)
        self._attempt = _Attempt(attempt_id, obs.track_id, obs.t, check, obs.t)
        self.phase = Phase.LIVENESS
        effects: list[Effect] = [Prompt(challenge)] if challenge else []
        check.add(obs.face)
        return effects

    def _after_liveness(self, t: float) -> list[Effect]:
        a = self._attempt
        assert a is not None and a.liveness.verdict is not None
        verdict = a.liveness.verdict
        if not verdict.live:
            return self._deny(t, verdict.reasons)
        a.live_at = t
        self.phase = Phase.RECOGNITION
        clear: list[Effect] = [ClearPrompt()] if a.liveness.challenge else []
        return [*clear, Recognise(a.id, a.track_id)]

    def _tick(self, t: float) -> list[Effect]:
        a = self._attempt
        assert a is not None
        if self.phase is Phase.LIVENESS and t >= a.liveness.deadline:
            a.liveness.expire(t)
            return self._after_liveness(t)
        waited = t - a.live_at if a.live_at is not None else 0.0
        if self.phase is Phase.RECOGNITION and waited > self.s.recognition_timeout_s:
            return self._deny(t, ("recognition_timeout",))
        if self.phase is Phase.SECOND_FACTOR and a.code_until is not None and t >= a.code_until:
            last = a.code_result
            reason = last.value if last in (CodeResult.INVALID, CodeResult.REPLAYED) else None
            return self._deny(t, (reason or "totp_timeout",))
        return []

    def _grant(self, t: float) -> list[Effect]:
        a = self._attempt
        assert a is not None
        decided = self._finish(t, "granted", ("granted",))
        # The event is recorded before the door opens: no grant without its record.
        return [decided, Unlock(a.id)]

    def _deny(self, t: float, reasons: tuple[str, ...]) -> list[Effect]:
        effects: list[Effect] = []
        a = self._attempt
        if a is not None and a.liveness.challenge and self.phase is Phase.LIVENESS:
            effects.append(ClearPrompt())
        effects.append(self._finish(t, "denied", reasons))
        return effects

    def _finish(self, t: float, decision: str, reasons: tuple[str, ...]) -> Decided:
        a = self._attempt
        assert a is not None
        rec = a.recognition
        liveness = a.liveness.verdict.evidence if a.liveness.verdict else {}
        latencies = {"total": round((t - a.started) * 1000)}
        if a.live_at is not None:
            latencies["liveness"] = round((a.live_at - a.started) * 1000)
        if a.recognised_at is not None and a.live_at is not None:
            waited = (a.recognised_at - a.live_at) * 1000
            if rec is not None and rec.elapsed_ms is not None:
                waited = max(waited, rec.elapsed_ms)
            latencies["recognition"] = round(waited)
        event = AccessEvent(
            device_id=self.s.device_id,
            room=self.s.room,
            attempt_id=a.id,
            decision=decision,
            reasons=tuple(reasons),
            session_id=a.session_id,
            student_id=rec.student_id if rec else None,
            scores=(
                {"distance": rec.distance, "threshold": rec.threshold, "match": rec.reason}
                if rec
                else {}
            ),
            liveness=liveness,
            second_factor=a.code_result.value if a.code_result else None,
            latencies_ms=latencies,
        )
        self._attempt = None
        if decision == "granted":
            self._granted_track = a.track_id
        if reasons[0] in ("face_changed", "face_lost"):
            # The person is not the one this attempt was about: start afresh at once.
            self.phase = Phase.IDLE
        else:
            self.phase = Phase.COOLDOWN
            self._cooldown_until = t + self.s.cooldown_s
        return Decided(event)
