"""The access flow on a synthetic timeline, with a real face's landmarks and the real rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from facegate.access.flow import (
    AccessFlow,
    AskCode,
    ClearPrompt,
    Decided,
    Phase,
    Place,
    Prompt,
    Recognise,
    Unlock,
)
from facegate.access.roster import Roster
from facegate.config.access import AccessConfig
from facegate.config.liveness import LivenessConfig
from facegate.identity.recognition import Recognition
from facegate.identity.second_factor import SecondFactorStore
from tests.synthetic_face import Switch, live_face, observe, photo_face, real_face, sample

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def face(demo_photos):
    return real_face(demo_photos)


def roster(second_factor: bool = False, students=("s1",), start=NOW - timedelta(hours=1)):
    return Roster.model_validate(
        {
            "session": [
                {
                    "id": "exam-1",
                    "room": "B-204",
                    "start": start,
                    "end": start + timedelta(hours=2),
                    "students": list(students),
                    "second_factor": second_factor,
                }
            ]
        }
    )


@pytest.fixture
def codes(tmp_path: Path):
    with SecondFactorStore.open(tmp_path / "sf.sqlite3", tmp_path / "k.key", create=True) as s:
        yield s


def make_flow(r: Roster, codes: SecondFactorStore | None = None, **liveness) -> AccessFlow:
    params = LivenessConfig(challenge_min_blinks=1, challenge_max_blinks=1, **liveness)

    def verify(student: str, code: str):
        assert codes is not None
        return codes.verify(student, code, NOW.timestamp())

    switch = Switch()
    flow = AccessFlow(
        Place("door-1", "B-204"),
        AccessConfig(cooldown_s=1.0),
        params,
        roster=lambda: r,
        wall_clock=lambda: NOW,
        verify_code=verify,
        lockdown=lambda: switch.on,
    )
    flow.switch = switch  # type: ignore[attr-defined]
    return flow


def feed(flow: AccessFlow, samples, track_id: int = 1) -> list:
    effects = []
    for s in samples:
        effects += flow.on_frame(observe(s.t, s, track_id))
        if any(isinstance(e, (Recognise, Decided)) for e in effects):
            break
    return effects


def decided(effects) -> list:
    return [e.event for e in effects if isinstance(e, Decided)]


def live_until_recognition(flow: AccessFlow, face) -> Recognise:
    effects = feed(flow, live_face(face, [1.5], 6.0))
    assert isinstance(effects[0], Prompt) and effects[0].challenge.blinks == 1
    assert any(isinstance(e, ClearPrompt) for e in effects)
    (request,) = [e for e in effects if isinstance(e, Recognise)]
    assert flow.phase is Phase.RECOGNITION
    return request


def test_live_student_on_the_roster_is_granted(face) -> None:
    flow = make_flow(roster())
    request = live_until_recognition(flow, face)
    effects = flow.on_recognition(Recognition(request.attempt_id, "s1", "match", 0.1, 0.35), 2.6)
    assert [type(e) for e in effects] == [Decided, Unlock]
    (event,) = decided(effects)
    assert event.decision == "granted" and event.reasons == ("granted",)
    assert event.student_id == "s1" and event.session_id == "exam-1"
    assert event.scores == {"distance": 0.1, "threshold": 0.35, "match": "match"}
    assert event.liveness["blinks"] and event.latencies_ms["total"] > 0
    assert flow.phase is Phase.COOLDOWN


def test_photo_is_denied_without_recognition_or_unlock(face) -> None:
    flow = make_flow(roster())
    effects = feed(flow, photo_face(face, 8.0))
    assert not any(isinstance(e, (Recognise, Unlock)) for e in effects)
    (event,) = decided(effects)
    assert event.decision == "denied" and event.reasons[0] in ("spoof_static", "no_blink")
    assert event.student_id is None


@pytest.mark.parametrize(
    "r,student,reason",
    [
        (roster(), None, "unknown_face"),
        (roster(students=("s2",)), "s1", "not_on_roster"),
        (roster(start=NOW + timedelta(hours=1)), "s1", "no_session"),
        (Roster(), "s1", "no_session"),
    ],
)
def test_denials_by_policy(face, r: Roster, student: str | None, reason: str) -> None:
    flow = make_flow(r)
    request = live_until_recognition(flow, face)
    rec = Recognition(request.attempt_id, student, "match" if student else "unknown_face")
    effects = flow.on_recognition(rec, 2.6)
    assert not any(isinstance(e, Unlock) for e in effects)
    (event,) = decided(effects)
    assert event.reasons == (reason,)


def test_lockdown_denies_everyone(face) -> None:
    flow = make_flow(roster())
    flow.switch.on = True
    request = live_until_recognition(flow, face)
    effects = flow.on_recognition(Recognition(request.attempt_id, "s1", "match"), 2.6)
    assert decided(effects)[0].reasons == ("lockdown",)


@pytest.mark.parametrize("change", ["lockdown", "session_ends", "roster_drops_student"])
def test_the_grant_is_decided_on_the_state_at_the_moment_of_the_code(face, codes, change) -> None:
    """Recognised and asked for a code; then lockdown, the session's end or a roster without
    the student; then the right code: refused for what holds now, no Unlock."""
    import pyotp

    secret = codes.enroll("s1")
    state = {"roster": roster(second_factor=True), "now": NOW}

    def verify(student: str, code: str):
        return codes.verify(student, code, state["now"].timestamp())

    switch = Switch()
    flow = AccessFlow(
        Place("door-1", "B-204"),
        AccessConfig(),
        LivenessConfig(challenge_min_blinks=1, challenge_max_blinks=1),
        roster=lambda: state["roster"],
        wall_clock=lambda: state["now"],
        verify_code=verify,
        lockdown=lambda: switch.on,
    )
    request = live_until_recognition(flow, face)
    (ask,) = flow.on_recognition(Recognition(request.attempt_id, "s1", "match"), 2.6)
    assert isinstance(ask, AskCode)
    expected = {
        "lockdown": "lockdown",
        "session_ends": "no_session",
        "roster_drops_student": "not_on_roster",
    }[change]
    if change == "lockdown":
        switch.on = True
    elif change == "session_ends":
        state["now"] = NOW + timedelta(hours=2)
    else:
        state["roster"] = roster(second_factor=True, students=("s2",))
    good = pyotp.TOTP(secret).at(state["now"].timestamp())
    effects = flow.on_code(ask.attempt_id, good, 3.0)
    assert not any(isinstance(e, Unlock) for e in effects)
    assert decided(effects)[0].reasons == (expected,)


def test_lockdown_ends_the_attempt_under_way_at_once(face) -> None:
    flow = make_flow(roster())
    feed(flow, list(live_face(face, [], 1.0)))
    assert flow.phase is Phase.LIVENESS
    (clear, done) = flow.abort(1.1, "lockdown")
    assert isinstance(clear, ClearPrompt) and done.event.reasons == ("lockdown",)
    assert flow.phase is Phase.COOLDOWN


def test_not_on_roster_names_the_student_only_if_configured(face) -> None:
    for named in (False, True):
        flow = AccessFlow(
            Place("door-1", "B-204"),
            AccessConfig(name_students_not_on_roster=named),
            LivenessConfig(challenge_min_blinks=1, challenge_max_blinks=1),
            roster=lambda: roster(students=("s2",)),
            wall_clock=lambda: NOW,
            verify_code=lambda s, c: None,  # type: ignore[arg-type,return-value]
        )
        request = live_until_recognition(flow, face)
        (event,) = decided(flow.on_recognition(Recognition(request.attempt_id, "s1", "match"), 2))
        assert event.reasons == ("not_on_roster",)
        assert event.student_id == ("s1" if named else None)


def test_second_factor_wrong_then_right_code(face, codes: SecondFactorStore) -> None:
    import pyotp

    secret = codes.enroll("s1")
    flow = make_flow(roster(second_factor=True), codes)
    request = live_until_recognition(flow, face)
    (ask,) = flow.on_recognition(Recognition(request.attempt_id, "s1", "match"), 2.6)
    assert isinstance(ask, AskCode) and ask.student_id == "s1"
    assert flow.on_code(ask.attempt_id, "000000", 3.0) == []  # wrong: may type again
    assert flow.on_code(ask.attempt_id, "12", 3.5) == []  # malformed: changes nothing
    good = pyotp.TOTP(secret).at(NOW.timestamp())
    effects = flow.on_code(ask.attempt_id, good, 4.0)
    assert [type(e) for e in effects] == [Decided, Unlock]
    assert decided(effects)[0].second_factor == "totp_ok"


def test_second_factor_replay_and_timeout(face, codes: SecondFactorStore) -> None:
    import pyotp

    secret = codes.enroll("s1")
    code = pyotp.TOTP(secret).at(NOW.timestamp())
    assert codes.verify("s1", code, NOW.timestamp()).accepted  # used once already
    flow = make_flow(roster(second_factor=True), codes)
    request = live_until_recognition(flow, face)
    (ask,) = flow.on_recognition(Recognition(request.attempt_id, "s1", "match"), 2.6)
    assert flow.on_code(ask.attempt_id, code, 3.0) == []
    # The student is still at the door when the code window closes.
    effects = flow.on_frame(observe(ask.until + 0.1, sample(face, ask.until + 0.1), 1))
    (event,) = decided(effects)
    assert event.reasons == ("totp_replayed",) and event.second_factor == "totp_replayed"
    assert not any(isinstance(e, Unlock) for e in effects)


def test_lockout_ends_the_attempt(face, codes: SecondFactorStore) -> None:
    codes.enroll("s1")
    for _ in range(4):
        codes.verify("s1", "000000", NOW.timestamp())
    flow = make_flow(roster(second_factor=True), codes)
    request = live_until_recognition(flow, face)
    (ask,) = flow.on_recognition(Recognition(request.attempt_id, "s1", "match"), 2.6)
    effects = flow.on_code(ask.attempt_id, "123456", 3.0)
    assert decided(effects)[0].reasons == ("locked_out",)


def test_a_second_face_ends_the_attempt_and_the_next_starts_afresh(face) -> None:
    flow = make_flow(roster())
    samples = list(live_face(face, [], 3.0))
    effects = feed(flow, samples[:20])
    assert isinstance(effects[0], Prompt)
    changed = flow.on_frame(observe(samples[20].t, samples[20], track_id=2))
    (event,) = decided(changed)
    assert event.reasons == ("face_changed",)
    restarted = flow.on_frame(observe(samples[21].t, samples[21], track_id=2))
    assert isinstance(restarted[0], Prompt) and flow.phase is Phase.LIVENESS
    two = flow.on_frame(observe(samples[22].t, samples[22], track_id=2, faces_in_view=2))
    assert decided(two)[0].reasons == ("face_changed",)


def test_face_lost_and_stalled_camera(face) -> None:
    flow = make_flow(roster())
    samples = list(live_face(face, [], 1.0))
    feed(flow, samples)
    assert flow.on_frame(observe(1.2, None)) == []
    (event,) = decided(flow.on_tick(2.5))
    assert event.reasons == ("face_lost",)


def test_late_recognition_for_an_ended_attempt_is_ignored(face) -> None:
    flow = make_flow(roster())
    request = live_until_recognition(flow, face)
    timeout = flow.on_frame(observe(8.0, sample(face, 8.0), 1))
    assert decided(timeout)[0].reasons == ("recognition_timeout",)
    late = flow.on_recognition(Recognition(request.attempt_id, "s1", "match"), 8.1)
    assert late == []


def test_every_attempt_ends_in_exactly_one_decision(face) -> None:
    """Attempts with and without blinks, lost faces and new tracks, one after another."""
    flow = make_flow(roster())
    started = decisions = 0
    t0 = 0.0
    for i in range(6):
        blinks = [t0 + 1.5] if i % 2 == 0 else []
        for s in live_face(face, [b - t0 for b in blinks], 9.0):
            obs = observe(s.t + t0, s, track_id=i)
            for e in flow.on_frame(obs):
                started += isinstance(e, Prompt)
                decisions += isinstance(e, Decided)
                if isinstance(e, Recognise):
                    for f in flow.on_recognition(Recognition(e.attempt_id, "s1", "match"), obs.t):
                        decisions += isinstance(f, Decided)
        t0 += 10.0
    for e in flow.on_tick(t0 + 20):
        decisions += isinstance(e, Decided)
    assert started >= 6 and decisions == started


def test_a_student_let_in_starts_no_new_attempt_until_the_track_changes(face) -> None:
    flow = make_flow(roster())
    request = live_until_recognition(flow, face)
    flow.on_recognition(Recognition(request.attempt_id, "s1", "match", 0.1, 0.35), 2.6)
    later = [replace(s, t=s.t + 10.0) for s in live_face(face, [1.5], 3.0)]
    assert feed(flow, later, track_id=request.track_id) == []
    assert flow.phase is Phase.IDLE
    effects = feed(flow, later[:1], track_id=request.track_id + 1)
    assert isinstance(effects[0], Prompt) and flow.phase is Phase.LIVENESS


def _refused_as_a_stranger(flow: AccessFlow, face) -> Recognise:
    """A first attempt that ends in unknown_face; returns the second attempt's request, made
    by the same presence (the same track, still in view) after the cooldown."""
    request = live_until_recognition(flow, face)
    refused = flow.on_recognition(Recognition(request.attempt_id, None, "unknown_face", 0.41), 2.6)
    assert decided(refused)[0].reasons == ("unknown_face",)
    again = [replace(s, t=s.t + 4.0) for s in live_face(face, [1.5], 6.0)]
    effects = feed(flow, again, track_id=request.track_id)
    (second,) = [e for e in effects if isinstance(e, Recognise)]
    assert second.track_id == request.track_id and second.attempt_id != request.attempt_id
    return second


def test_a_stranger_still_in_view_gets_no_free_second_draw(face, codes) -> None:
    """The attack seen on the real door (docs/door-tables.md): a stranger refused on the first
    attempt is recognised as an enrolled student on the second. Without the student's code the
    second attempt is refused too; the student's own code lets the student in."""
    import pyotp

    flow = make_flow(roster(), codes)
    second = _refused_as_a_stranger(flow, face)
    effects = flow.on_recognition(Recognition(second.attempt_id, "s1", "match", 0.297, 0.35), 6.7)
    (ask,) = effects
    assert isinstance(ask, AskCode) and ask.student_id == "s1"
    effects = flow.on_code(ask.attempt_id, "123456", 7.0)
    assert not any(isinstance(e, Unlock) for e in effects)
    assert decided(effects)[0].reasons == ("totp_not_enrolled",)

    secret = codes.enroll("s1")
    flow = make_flow(roster(), codes)
    second = _refused_as_a_stranger(flow, face)
    (ask,) = flow.on_recognition(Recognition(second.attempt_id, "s1", "match", 0.1, 0.35), 6.7)
    effects = flow.on_code(ask.attempt_id, pyotp.TOTP(secret).at(NOW.timestamp()), 7.0)
    assert [type(e) for e in effects] == [Decided, Unlock]
    assert decided(effects)[0].second_factor == "totp_ok"


def test_a_new_presence_after_a_stranger_is_judged_afresh(face) -> None:
    """The rule follows the presence: once the refused face has left (a new track), the next
    person is not asked for a code; and a door configured without the rule grants as before."""
    flow = make_flow(roster())
    request = live_until_recognition(flow, face)
    flow.on_recognition(Recognition(request.attempt_id, None, "unknown_face", 0.41), 2.6)
    later = [replace(s, t=s.t + 4.0) for s in live_face(face, [1.5], 6.0)]
    effects = feed(flow, later, track_id=request.track_id + 1)
    (fresh,) = [e for e in effects if isinstance(e, Recognise)]
    effects = flow.on_recognition(Recognition(fresh.attempt_id, "s1", "match", 0.1, 0.35), 6.7)
    assert [type(e) for e in effects] == [Decided, Unlock]

    flow = make_flow(roster())
    flow.access = AccessConfig(cooldown_s=1.0, code_after_unknown_face=False)
    second = _refused_as_a_stranger(flow, face)
    effects = flow.on_recognition(Recognition(second.attempt_id, "s1", "match", 0.1, 0.35), 6.7)
    assert [type(e) for e in effects] == [Decided, Unlock]


def test_a_face_too_far_is_asked_to_come_closer_and_shown_the_challenge_again(face) -> None:
    """For the first half second the face is 100 px (below liveness.min_face_px): the door
    asks at once instead of refusing at the end; once close it shows the count again, and the
    blink made close up lets the student in."""
    from facegate.access.distance_prompt import ComeCloser
    from facegate.vision.detection import Box

    flow = make_flow(roster())
    samples = list(live_face(face, [1.5], 6.0))
    far = [replace(s, box=Box(s.box.x, s.box.y, 100.0, 100.0)) for s in samples[:15]]
    effects = feed(flow, [*far, *samples[15:]])
    shown = [e for e in effects if isinstance(e, (Prompt, ComeCloser))]
    assert [type(e) for e in shown] == [Prompt, ComeCloser, ComeCloser, Prompt]
    assert shown[1].on and not shown[2].on
    assert shown[3].challenge == shown[0].challenge
    (request,) = [e for e in effects if isinstance(e, Recognise)]
    granted = flow.on_recognition(Recognition(request.attempt_id, "s1", "match", 0.1), 6.5)
    assert [type(e) for e in granted] == [Decided, Unlock]
