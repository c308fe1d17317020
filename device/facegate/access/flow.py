"""The access flow: one attempt from a face appearing to exactly one decision.

Pure logic. The camera loop feeds it observations with their time; the recognition worker and
the keypad answer its requests; it answers with *effects* (prompt, blink seen, recognise, ask
for a code, unlock, decision) that the door carries out. Time comes in with every call,
wall-clock time (for the exam session) from an injected clock, lockdown from an injected
switch, so tests run it on a synthetic timeline.

    idle -> liveness (random challenge) -> recognition -> policy -> [second factor]
         -> granted / denied -> cooldown -> idle

One attempt is about one person. A new track, or a second face in view, ends it
(``face_changed``); the frames around each blink are embedded with the best frames and must
agree (the recognition worker checks that). The grant itself is decided by
:meth:`AccessFlow.authorise` at the moment it is made: lockdown, the open session and the
roster are read again then, not taken from when the attempt began.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from facegate.access.distance_prompt import ComeCloser, DistancePrompt
from facegate.access.roster import Roster
from facegate.config.access import AccessConfig
from facegate.config.liveness import LivenessConfig
from facegate.events.access_event import AccessEvent
from facegate.identity.matcher import UNKNOWN
from facegate.identity.recognition import Recognition
from facegate.identity.totp import CodeResult, Verdict
from facegate.liveness.challenge import Challenge, draw_challenge
from facegate.liveness.verdict import LivenessCheck
from facegate.vision.face_sample import FaceSample


class Phase(StrEnum):
    IDLE = "idle"
    LIVENESS = "liveness"
    RECOGNITION = "recognition"
    SECOND_FACTOR = "second_factor"
    COOLDOWN = "cooldown"


# Reasons that say the person left or changed, not that they were refused.
WALKED_AWAY = ("face_lost", "face_changed")


@dataclass(frozen=True)
class Observation:
    """The camera loop's view of one frame: the tracked face, or None."""

    t: float
    face: FaceSample | None


# -- effects ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    challenge: Challenge


@dataclass(frozen=True)
class ClearPrompt:
    pass


@dataclass(frozen=True)
class BlinkSeen:
    """A blink of this attempt's face, from ``start`` to ``end`` (s): keep a frame of it."""

    attempt_id: str
    start: float
    end: float


@dataclass(frozen=True)
class Recognise:
    """Embed this attempt's frames (best and around its blinks), off the capture thread."""

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


Effect = Prompt | ClearPrompt | BlinkSeen | ComeCloser | Recognise | AskCode | Unlock | Decided


@dataclass(frozen=True)
class Place:
    """Where the flow runs: the door's id and room."""

    device_id: str = "door-1"
    room: str = ""


@dataclass
class _Attempt:
    id: str
    track_id: int
    started: float
    liveness: LivenessCheck
    last_seen: float
    distance: DistancePrompt
    blinks_reported: int = 0
    live_at: float | None = None
    recognition: Recognition | None = None
    recognised_at: float | None = None
    session_id: str | None = None
    code_until: float | None = None
    code_result: CodeResult | None = None


class AccessFlow:
    def __init__(
        self,
        place: Place,
        access: AccessConfig,
        liveness: LivenessConfig,
        roster: Callable[[], Roster],
        wall_clock: Callable[[], datetime],
        verify_code: Callable[[str, str], Verdict],
        lockdown: Callable[[], bool] = lambda: False,
    ) -> None:
        self.place = place
        self.access = access
        self.liveness = liveness
        self._roster = roster
        self._wall = wall_clock
        self._verify = verify_code
        self._lockdown = lockdown
        self.phase = Phase.IDLE
        self._attempt: _Attempt | None = None
        self._cooldown_until = 0.0
        self._granted_track: int | None = None
        # The presence last refused as a stranger, while it stays in view.
        self._stranger_track: int | None = None

    @property
    def attempt_id(self) -> str | None:
        return self._attempt.id if self._attempt is not None else None

    # -- inputs ------------------------------------------------------------------------------

    def on_frame(self, obs: Observation) -> list[Effect]:
        if self.phase is Phase.COOLDOWN:
            if obs.t < self._cooldown_until:
                return []
            self.phase = Phase.IDLE
        face = obs.face
        if self.phase is Phase.IDLE:
            if face is None or face.track_id != self._granted_track:
                self._granted_track = None
            if face is None or face.track_id != self._stranger_track:
                self._stranger_track = None
            if face is None or self._granted_track is not None:
                return []  # a student let in starts no new attempt until they have walked on
            return self._start(face)
        a = self._attempt
        assert a is not None
        if face is None:
            if obs.t - a.last_seen > self.access.face_lost_s:
                return self._deny(obs.t, ("face_lost",))
            return self._tick(obs.t)
        if face.track_id != a.track_id or face.faces_in_view > 1:
            return self._deny(obs.t, ("face_changed",))
        a.last_seen = obs.t
        if self.phase is Phase.LIVENESS:
            verdict = a.liveness.add(face)
            effects = [*self._distance(a, face), *self._new_blinks(a)]
            if verdict is not None:
                return [*effects, *self._after_liveness(obs.t)]
            return [*effects, *self._tick(obs.t)]
        return self._tick(obs.t)

    def on_tick(self, t: float) -> list[Effect]:
        """Time passes without frames (a stalled camera): deadlines still apply."""
        if self.phase in (Phase.IDLE, Phase.COOLDOWN) or self._attempt is None:
            return []
        a = self._attempt
        if t - a.last_seen > self.access.face_lost_s:
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
        refusal = self.authorise(result.student_id)
        if refusal is not None:
            return self._deny(t, (refusal,))
        session = self._roster().current(self.place.room, self._wall())
        # A face just refused as a stranger, still in view, must not win on a fresh draw of
        # the same face: its code decides (no TOTP enrolled: refused).
        retrying = self.access.code_after_unknown_face and a.track_id == self._stranger_track
        if (session is not None and session.second_factor) or retrying:
            self.phase = Phase.SECOND_FACTOR
            a.code_until = t + self.access.code_timeout_s
            return [AskCode(a.id, result.student_id, a.code_until)]
        return self._grant(t)

    def on_code(self, attempt_id: str, code: str, t: float) -> list[Effect]:
        a = self._attempt
        if self.phase is not Phase.SECOND_FACTOR or a is None or attempt_id != a.id:
            return []
        assert a.recognition is not None and a.recognition.student_id is not None
        refusal = self.authorise(a.recognition.student_id)
        if refusal is not None:  # refused now whatever the code: do not spend it
            return self._deny(t, (refusal,))
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
        """End the attempt under way, if any, for a reason outside the flow (camera_error,
        lockdown switched on)."""
        if self._attempt is None or self.phase in (Phase.IDLE, Phase.COOLDOWN):
            return []
        return self._deny(t, (reason,))

    # -- the one check before any grant -----------------------------------------------------

    def authorise(self, student_id: str) -> str | None:
        """None when ``student_id`` may enter now, else the refusal's reason.

        Read at the moment of asking: lockdown, the session open in this room now, and whether
        the roster in use now lists the student. Every grant passes here last.
        """
        a = self._attempt
        session = self._roster().current(self.place.room, self._wall())
        if a is not None:
            a.session_id = session.id if session is not None else None
        if self._lockdown():
            return "lockdown"
        if session is None:
            return "no_session"
        if not session.allows(student_id):
            return "not_on_roster"
        return None

    # -- steps -------------------------------------------------------------------------------

    def _start(self, face: FaceSample) -> list[Effect]:
        if face.faces_in_view > 1:
            return []  # wait until one person stands at the door
        attempt_id = f"{self.place.device_id}-{int(face.t * 1000):x}-{secrets.token_hex(3)}"
        params = self.liveness
        challenge = draw_challenge(face.t, params) if params.challenge else None
        check = LivenessCheck(face.t, params, challenge)
        distance = DistancePrompt(params.min_face_px)
        self._attempt = _Attempt(attempt_id, face.track_id, face.t, check, face.t, distance)
        self.phase = Phase.LIVENESS
        effects: list[Effect] = [Prompt(challenge)] if challenge else []
        check.add(face)
        return effects

    def _distance(self, a: _Attempt, face: FaceSample) -> list[Effect]:
        """ "Come closer" while the face is too small for blink evidence; once close enough
        again, the challenge is shown anew (its flashes may have been missed)."""
        change = a.distance.update(face.box.w)
        if change is None:
            return []
        again = a.liveness.challenge
        return [change] if change.on or again is None else [change, Prompt(again)]

    def _new_blinks(self, a: _Attempt) -> list[Effect]:
        blinks = a.liveness.blinks.blinks
        fresh = blinks[a.blinks_reported :]
        a.blinks_reported = len(blinks)
        return [BlinkSeen(a.id, b.start, b.end) for b in fresh]

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
            return [*self._new_blinks(a), *self._after_liveness(t)]
        waited = t - a.live_at if a.live_at is not None else 0.0
        if self.phase is Phase.RECOGNITION and waited > self.access.recognition_timeout_s:
            return self._deny(t, ("recognition_timeout",))
        if self.phase is Phase.SECOND_FACTOR and a.code_until is not None and t >= a.code_until:
            last = a.code_result
            reason = last.value if last in (CodeResult.INVALID, CodeResult.REPLAYED) else None
            return self._deny(t, (reason or "totp_timeout",))
        return []

    def _grant(self, t: float) -> list[Effect]:
        a = self._attempt
        assert a is not None and a.recognition is not None and a.recognition.student_id
        refusal = self.authorise(a.recognition.student_id)
        if refusal is not None:
            return self._deny(t, (refusal,))
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
        student_id = rec.student_id if rec else None
        if reasons[0] == "not_on_roster" and not self.access.name_students_not_on_roster:
            student_id = None  # this door does not record who tried it for another exam
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
            device_id=self.place.device_id,
            room=self.place.room,
            attempt_id=a.id,
            decision=decision,
            reasons=tuple(reasons),
            session_id=a.session_id,
            student_id=student_id,
            scores=rec.scores() if rec else {},
            liveness=liveness,
            second_factor=a.code_result.value if a.code_result else None,
            latencies_ms=latencies,
        )
        self._attempt = None
        if decision == "granted":
            self._granted_track = a.track_id
        if reasons[0] == UNKNOWN:
            self._stranger_track = a.track_id
        if reasons[0] in WALKED_AWAY:
            # The person is not the one this attempt was about: start afresh at once.
            self.phase = Phase.IDLE
        else:
            self.phase = Phase.COOLDOWN
            self._cooldown_until = t + self.access.cooldown_s
        return Decided(event)
