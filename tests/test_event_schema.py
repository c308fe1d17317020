"""The published JSON Schemas (device/facegate/schemas) against what the code really emits.

The schemas are checked as schemas, against events built by hand, against events of the access
flow on a synthetic timeline, and, the one that matters, against every line a real door run
writes to its journal (tests/test_door_service.py's clips, pipeline and helpers).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from dataclasses import replace

import pyotp
import pytest
from jsonschema import Draft202012Validator, ValidationError

from facegate.access.flow import AccessFlow
from facegate.evaluation.photo_attack import held_photo_frames
from facegate.events.access_event import AccessEvent
from facegate.events.alarm_event import ALARM_KINDS, AlarmEvent
from facegate.events.schemas import SCHEMA_DIR, load_schema
from facegate.identity import matcher
from facegate.identity.recognition import Recognition
from facegate.identity.second_factor import SecondFactorStore
from facegate.identity.totp import CodeResult
from facegate.liveness import verdict
from facegate.mqtt.commands import sign_command
from facegate.mqtt.health import health_message
from facegate.mqtt.topics import COMMANDS
from facegate.vision.sources import OpenCVSource
from facegate.vision.sources.rendered import RenderedSource
from facegate.vision.video import video_frames
from tests import test_door_service as door
from tests.conftest import shared
from tests.event_schemas import SCHEMA_NAMES, validate_command, validate_event
from tests.synthetic_face import live_face, observe, photo_face, real_face, sample
from tests.test_access_flow import NOW, decided, feed, live_until_recognition, make_flow, roster

# The door service's module-scoped fixture: d18 enrolled, with a TOTP secret.
enrolled = door.enrolled

NEW_ALARM_KINDS = {"command_rejected", "remote_command", "outbox_full", "event_store_failed"}
ATTEMPT = "door-1-5dc-a1b2c3"


def strict_json(text: str) -> dict:
    """Parse as a strict JSON reader would: NaN and Infinity are not JSON."""

    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def published(event: dict) -> dict:
    """The event as a subscriber receives it (the journal's own serialisation)."""
    return strict_json(json.dumps(event, separators=(",", ":"), sort_keys=True))


def rejected(message: dict) -> bool:
    try:
        validate_event(message)
    except ValidationError:
        return True
    return False


# -- the schemas themselves ------------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_each_schema_is_a_valid_draft_2020_12_schema(name):
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://facegate.example/schemas/{name}.schema.json"
    assert schema["additionalProperties"] is False and schema["required"]


def test_every_schema_file_is_known():
    on_disk = {p.name.removesuffix(".schema.json") for p in SCHEMA_DIR.glob("*.json")}
    assert on_disk == set(SCHEMA_NAMES)


def test_schema_enums_follow_the_code():
    access = load_schema("access_event")
    reasons = set(access["$defs"]["reason"]["enum"])
    produced = {
        verdict.SPOOF_STATIC,
        verdict.NO_BLINK,
        verdict.CHALLENGE_FAILED,
        matcher.UNKNOWN,
        matcher.EMPTY,
        matcher.NO_CANDIDATES,
        CodeResult.INVALID.value,
        CodeResult.REPLAYED.value,
        CodeResult.LOCKED_OUT.value,
        CodeResult.NOT_ENROLLED.value,
    }
    assert produced <= reasons
    factor = access["properties"]["second_factor"]["enum"]
    assert set(factor) == {None} | {r.value for r in CodeResult}
    kinds = set(load_schema("alarm_event")["properties"]["kind"]["enum"])
    assert ALARM_KINDS <= kinds <= ALARM_KINDS | NEW_ALARM_KINDS
    body = load_schema("command")["$defs"]["body"]
    assert tuple(body["properties"]["cmd"]["enum"]) == COMMANDS


# -- events built by hand --------------------------------------------------------------------


def evidence(challenge: bool = False) -> dict:
    blink = {
        "start": 1.433,
        "end": 1.733,
        "closed_s": 0.087,
        "depth": 0.512,
        "min_ear": [0.141, 0.152],
        "baseline_ear": [0.301, 0.297],
    }
    return {
        "samples": 52,
        "blinks": [blink],
        "rejected_dips": [{**blink, "start": 0.9, "reason": "too_short"}],
        "ear_baseline": [0.301, 0.297],
        "ear_min": 0.141,
        "pitch_range": [-3.2, 1.4],
        "yaw_range": [-6.0, 2.5],
        "static": {"t": 1.6, "ear_spread": 0.2134, "nonrigid": 0.0312},
        "challenge": {"blinks": 1, "start": 0.0, "window_s": 6.0} if challenge else None,
    }


def granted_event(**changes) -> AccessEvent:
    fields = {
        "device_id": "door-1",
        "room": "B-204",
        "attempt_id": ATTEMPT,
        "decision": "granted",
        "reasons": ("granted",),
        "session_id": "exam-1",
        "student_id": "s1",
        "scores": {"distance": 0.2143, "threshold": 0.4, "match": "match"},
        "liveness": evidence(challenge=True),
        "second_factor": "totp_ok",
        "latencies_ms": {"total": 2412, "liveness": 1800, "recognition": 312},
    }
    return AccessEvent(**{**fields, **changes})


def denied_event(*reasons: str, **changes) -> AccessEvent:
    fields = {
        "decision": "denied",
        "reasons": reasons,
        "second_factor": None,
        "session_id": None,
        "student_id": None,
    }
    return granted_event(**{**fields, **changes})


HAND_BUILT = {
    "granted": granted_event(),
    "granted_no_factor": granted_event(second_factor=None, liveness=evidence()),
    "spoof": denied_event(
        "spoof_static", scores={}, latencies_ms={"total": 1900}, liveness=evidence()
    ),
    "challenge": denied_event("challenge_failed", "too_many", scores={}, latencies_ms={"total": 1}),
    "unknown": denied_event(
        "unknown_face", scores={"distance": 0.73, "threshold": 0.4, "match": "unknown_face"}
    ),
    "no_face": denied_event(
        "no_face", scores={"distance": None, "threshold": None, "match": "no_face"}
    ),
    "lost": denied_event("face_lost", scores={}, liveness={}, latencies_ms={"total": 1200}),
    "not_on_roster": denied_event("not_on_roster", student_id="s1", session_id="exam-1"),
    "code": denied_event("totp_timeout", student_id="s1", second_factor="totp_malformed"),
    "outbox_full": denied_event("outbox_full", scores={}, liveness={}, latencies_ms={"total": 0}),
}


@pytest.mark.parametrize("case", HAND_BUILT)
def test_access_events_built_with_realistic_values_validate(case):
    validate_event(published(HAND_BUILT[case].to_dict()))


ALARM_DETAILS = {
    "door_forced": {"open_for_s": 0.0},
    "door_held_open": {"open_for_s": 15.2},
    "camera_error": {"source": "picamera2:0", "error": "no frame", "down_s": 3.0},
    "camera_restored": {"source": "picamera2:0", "down_s": 12.4},
    "locked_out": {"student_id": "s1"},
    "spoof_attempt": {"reasons": ["spoof_static"]},
    "roster_invalid": {"error": "session exam-9: end must be after start"},
    "watchdog_stall": {"stall_s": 5.0},
    # The kinds of the MQTT work, with the daemon's detail shapes.
    "command_rejected": {"cmd": "unlock", "reason": "bad_signature", "detail": "no match"},
    "remote_command": {"cmd": "unlock", "nonce": "q3Zp0c-Yb8_LmN2xw4Rt", "seconds": 5.0},
    "outbox_full": {"fill": 0.812, "depth": 5120, "out_of_service": False},
    "event_store_failed": {"unlocked": False, "error": "[Errno 28] No space left on device"},
    # Attempt integrity and the door's own parts.
    "exit_request": {"unlocked": False, "reason": "lockdown"},
    "attendance_failed": {"session_id": "exam-1", "student_id": "s1", "error": "locked"},
    "gallery_invalid": {"error": "gallery.sqlite3 is damaged"},
    "keypad_error": {"device": "/dev/input/by-id/usb-kbd", "error": "[Errno 19] No such device"},
    "keypad_restored": {"device": "/dev/input/by-id/usb-kbd", "down_s": 4.2},
}
WITH_ATTEMPT = ("locked_out", "spoof_attempt", "event_store_failed", "attendance_failed")


@pytest.mark.parametrize("kind", sorted(ALARM_DETAILS))
def test_alarm_events_of_every_kind_validate(kind):
    attempt = ATTEMPT if kind in WITH_ATTEMPT else None
    event = AlarmEvent("door-1", "B-204", "roster_invalid", attempt_id=attempt).to_dict()
    # Built as the dataclass builds it, whether or not ALARM_KINDS has the new kinds yet.
    validate_event(published({**event, "kind": kind, "detail": ALARM_DETAILS[kind]}))
    if kind in ALARM_KINDS:
        made = AlarmEvent("door-1", "B-204", kind, ALARM_DETAILS[kind], attempt)
        validate_event(published(made.to_dict()))


def test_every_alarm_kind_has_an_example():
    assert set(ALARM_DETAILS) == ALARM_KINDS | NEW_ALARM_KINDS


# -- what must be refused --------------------------------------------------------------------


def spoiled(event: dict, change) -> dict:
    out = copy.deepcopy(event)
    change(out)
    return out


ACCESS = published(granted_event().to_dict())
ALARM = published(
    AlarmEvent("door-1", "B-204", "spoof_attempt", {"reasons": ["x"]}, ATTEMPT).to_dict()
)

BAD = {
    "missing event_id": spoiled(ACCESS, lambda e: e.pop("event_id")),
    "extra top-level key": {**ACCESS, "debug": True},
    "a name": {**ACCESS, "name": "Ada Lovelace"},
    "an image": {**ACCESS, "image": "iVBORw0KGgo="},
    "granted with two reasons": {**ACCESS, "reasons": ["granted", "no_blink"]},
    "granted without a student": {**ACCESS, "student_id": None},
    "denied saying granted": {**ACCESS, "decision": "denied", "second_factor": None},
    "no reason": {**ACCESS, "decision": "denied", "reasons": []},
    "unknown reason": {**ACCESS, "decision": "denied", "reasons": ["bad_vibes"]},
    "unknown decision": {**ACCESS, "decision": "maybe"},
    "schema version 2": {**ACCESS, "schema_version": 2},
    "short event_id": {**ACCESS, "event_id": ACCESS["event_id"][:27]},
    "ts without milliseconds": {**ACCESS, "ts": "2026-11-23T09:00:00+00:00"},
    "ts not in UTC": {**ACCESS, "ts": "2026-11-23T09:00:00.000+01:00"},
    "device id with a slash": {**ACCESS, "device_id": "door/1"},
    "extra score": spoiled(ACCESS, lambda e: e["scores"].update(probe=[0.1, 0.2])),
    "half the scores": spoiled(ACCESS, lambda e: e["scores"].pop("threshold")),
    "landmarks in liveness": spoiled(ACCESS, lambda e: e["liveness"].update(landmarks=[])),
    "latency as float": spoiled(ACCESS, lambda e: e["latencies_ms"].update(total=12.5)),
    "unknown second factor": {**ACCESS, "second_factor": "123456"},
    "unknown alarm kind": {**ALARM, "kind": "fire"},
    "alarm with an image": {**ALARM, "image": "iVBORw0KGgo="},
    "alarm detail with an image": {**ALARM, "kind": "remote_command", "detail": {"image": ""}},
    "alarm detail with a code": {**ALARM, "kind": "remote_command", "detail": {"code": "1"}},
    "alarm detail of the wrong shape": {**ALARM, "detail": {"open_for_s": 1.0}},
    "alarm without its attempt": {**ALARM, "attempt_id": None},
    "no type": spoiled(ACCESS, lambda e: e.pop("type")),
    "unknown type": {**ACCESS, "type": "gossip"},
}


def test_the_valid_bases_of_the_refusals_validate():
    validate_event(ACCESS)
    validate_event(ALARM)


@pytest.mark.parametrize("case", BAD)
def test_wrong_messages_are_refused(case):
    assert rejected(BAD[case]), case


# -- command, command result, health ---------------------------------------------------------

KEY = bytes(range(32))


def signed(body: dict) -> dict:
    text = json.dumps(body, separators=(",", ":"))
    sig = hmac.new(KEY, text.encode("utf-8"), hashlib.sha256).hexdigest()
    return {"body": text, "sig": sig}


def command(cmd: str, args: dict) -> dict:
    return {
        "cmd": cmd,
        "device_id": "door-1",
        "ts": 1795424400,
        "nonce": "q3Zp0c-Yb8_LmN2xw4Rt",
        "args": args,
    }


GOOD_COMMANDS = [
    ("unlock", {}),
    ("unlock", {"seconds": 5}),
    ("lockdown", {"on": True}),
    ("reload", {}),
    ("reload", {"what": "roster"}),
    ("override", {"student_id": "s1"}),
    ("override", {"student_id": "s1", "valid_s": 3600}),
]


@pytest.mark.parametrize(("cmd", "args"), GOOD_COMMANDS)
def test_signed_commands_validate(cmd, args):
    body = validate_command(signed(command(cmd, args)))
    assert body["cmd"] == cmd


@pytest.mark.parametrize(("cmd", "args"), GOOD_COMMANDS)
def test_the_commands_facegate_signs_validate(cmd, args):
    message = json.loads(sign_command(KEY, "door-1", cmd, args, ts=1795424400))
    validate_command(message)
    assert message == signed(json.loads(message["body"]))  # sig as the schema describes it


def test_args_may_be_left_out():
    body = {k: v for k, v in command("reload", {}).items() if k != "args"}
    assert "args" not in validate_command(signed(body))


BAD_COMMANDS = {
    "unknown command": command("selfdestruct", {}),
    "unlock too long": command("unlock", {"seconds": 61}),
    "unlock with extra args": command("unlock", {"seconds": 5, "door": 2}),
    "lockdown without on": command("lockdown", {}),
    "reload of what": command("reload", {"what": "firmware"}),
    "override without student": command("override", {"valid_s": 3600}),
    "override too long": command("override", {"student_id": "s1", "valid_s": 86401}),
    "override with a code": command("override", {"student_id": "s1", "code": "123456"}),
    "short nonce": {**command("reload", {}), "nonce": "abc"},
    "ts as text": {**command("reload", {}), "ts": "1795424400"},
    "args not an object": command("reload", []),
}


@pytest.mark.parametrize("case", BAD_COMMANDS)
def test_bad_commands_are_refused(case):
    with pytest.raises(ValidationError):
        validate_command(signed(BAD_COMMANDS[case]))


def test_a_bad_envelope_is_refused():
    good = signed(command("reload", {}))
    for message in (
        {**good, "sig": good["sig"].upper()},
        {**good, "sig": good["sig"][:63]},
        {"body": good["body"]},
        {**good, "extra": 1},
        {**good, "body": "{not json"},
    ):
        with pytest.raises(ValidationError):
            validate_command(message)


def command_result(**changes) -> dict:
    return {
        "type": "command_result",
        "schema_version": 1,
        "ts": "2026-11-23T09:00:00.123+00:00",
        "device_id": "door-1",
        "cmd": "override",
        "nonce": "q3Zp0c-Yb8_LmN2xw4Rt",
        "accepted": True,
        "reason": "ok",
        "detail": "",
        "result": {
            "student_id": "s1",
            "expires": "2026-11-23T10:00:00+00:00",
            "sealed_code": "QUJD",
        },
        **changes,
    }


def test_command_results_validate_and_never_carry_the_override_code():
    validate_event(command_result())
    refused = command_result(accepted=False, reason="bad_signature", detail="bad signature")
    validate_event({k: v for k, v in refused.items() if k != "result"})
    validate_event(command_result(cmd=None, nonce=None, accepted=False, reason="malformed"))
    with_code = command_result(result={**command_result()["result"], "code": "123456"})
    for bad in (
        with_code,
        command_result(reason="stale"),  # accepted goes with ok only
        command_result(accepted=False),
        command_result(reason="because"),
        command_result(cmd="unlock", result={"code": "1"}),
    ):
        assert rejected(bad), bad


HEALTH_ARGS = (
    "uptime_s",
    "fps",
    "outbox_depth",
    "outbox_fill",
    "last_error",
    "mqtt_connected",
    "lockdown",
    "attempts",
    "granted",
)


def test_health_validates():
    health = {
        "type": "health",
        "schema_version": 1,
        "ts": "2026-11-23T09:00:00.123+00:00",
        "device_id": "door-1",
        "uptime_s": 3600.5,
        "fps": 14.8,
        "cpu_temp_c": None,
        "outbox_depth": 0,
        "outbox_fill": 0.0,
        "last_error": None,
        "mqtt_connected": True,
        "lockdown": False,
        "attempts": 12,
        "granted": 10,
    }
    validate_event(health)
    made = health_message("door-1", **{k: v for k, v in health.items() if k in HEALTH_ARGS})
    validate_event(published(made))
    assert rejected({**health, "outbox_fill": 1.5})
    assert rejected({**health, "outbox_depth": 1.5})
    assert rejected({k: v for k, v in health.items() if k != "mqtt_connected"})


# -- events of the real access flow (synthetic timeline) -------------------------------------


@pytest.fixture(scope="module")
def face(demo_photos):
    return real_face(demo_photos)


@pytest.fixture
def codes(tmp_path):
    with SecondFactorStore.open(tmp_path / "sf.sqlite3", tmp_path / "k.key", create=True) as s:
        yield s


def recognised(flow: AccessFlow, face, student: str | None, reason: str = "match", **kw):
    request = live_until_recognition(flow, face)
    rec = Recognition(request.attempt_id, student, reason, **kw)
    return flow.on_recognition(rec, 2.6)


MATCH = {"distance": 0.21, "threshold": 0.4, "elapsed_ms": 310.5}


def flow_events(face, codes: SecondFactorStore) -> dict[str, list]:
    out: dict[str, list] = {}
    out["granted"] = decided(recognised(make_flow(roster()), face, "s1", **MATCH))
    out["photo"] = decided(feed(make_flow(roster()), photo_face(face, 8.0)))
    out["unknown"] = decided(
        recognised(make_flow(roster()), face, None, "unknown_face", distance=0.8, threshold=0.4)
    )
    out["error"] = decided(recognised(make_flow(roster()), face, None, "recognition_error"))
    out["roster"] = decided(recognised(make_flow(roster(students=("s2",))), face, "s1", **MATCH))
    locked = make_flow(roster())
    locked.switch.on = True
    out["lockdown"] = decided(recognised(locked, face, "s1", **MATCH))
    flow = make_flow(roster())
    samples = list(live_face(face, [], 3.0))
    feed(flow, samples[:20])
    out["changed"] = decided(flow.on_frame(observe(samples[20].t, samples[20], 2)))
    flow = make_flow(roster())
    feed(flow, list(live_face(face, [], 1.0)))
    out["lost"] = decided(flow.on_tick(2.5))
    flow = make_flow(roster())
    live_until_recognition(flow, face)
    out["timeout"] = decided(flow.on_frame(observe(8.0, sample(face, 8.0), 1)))
    # The second factor: a wrong code then the right one; then a replay left to time out.
    secret = codes.enroll("s1")
    flow = make_flow(roster(second_factor=True), codes)
    (ask,) = recognised(flow, face, "s1", **MATCH)
    flow.on_code(ask.attempt_id, "000000", 3.0)
    good = pyotp.TOTP(secret).at(NOW.timestamp())
    out["code"] = decided(flow.on_code(ask.attempt_id, good, 4.0))
    flow = make_flow(roster(second_factor=True), codes)
    (ask,) = recognised(flow, face, "s1", **MATCH)
    flow.on_code(ask.attempt_id, good, 3.0)
    t = ask.until + 0.1
    out["replay"] = decided(flow.on_frame(observe(t, sample(face, t), 1)))
    return out


def test_every_event_of_the_access_flow_validates(face, codes):
    events = flow_events(face, codes)
    reasons = {}
    for case, decisions in events.items():
        (event,) = decisions
        reasons[case] = event.reasons[0]
        validate_event(published(event.to_dict()))
    assert reasons == {
        "granted": "granted",
        "photo": reasons["photo"],  # spoof_static or no_blink, as the flow's own test allows
        "unknown": "unknown_face",
        "error": "recognition_error",
        "roster": "not_on_roster",
        "lockdown": "lockdown",
        "changed": "face_changed",
        "lost": "face_lost",
        "timeout": "recognition_timeout",
        "code": "granted",
        "replay": "totp_replayed",
    }
    assert events["code"][0].second_factor == "totp_ok"


def test_a_grant_without_its_evidence_is_refused(face):
    (event,) = decided(recognised(make_flow(roster()), face, "s1", **MATCH))
    assert not rejected(published(event.to_dict()))
    assert rejected(published(replace(event, latencies_ms={"total": 10}).to_dict()))


# -- every line a real door run writes -------------------------------------------------------


def journal_lines(path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines and all(line.strip() for line in lines)
    return [strict_json(line) for line in lines]


@pytest.mark.data
@pytest.mark.parametrize(
    ("case", "reason"),
    [("grant", "granted"), ("photo", "spoof_static"), ("unknown", "unknown_face")],
)
def test_every_event_a_real_door_writes_validates(enrolled, tmp_path, pipeline, case, reason):
    clip = shared("blink", "liveportrait", "d18.mp4")
    if case == "photo":
        still = next(video_frames(clip))
        frames = [f for _, f in held_photo_frames(still, seed=3, seconds=5.0)]
        source = RenderedSource.of(frames, 15.0, "photo")
    elif case == "unknown":
        source = OpenCVSource(shared("blink", "liveportrait", "d12.mp4"))
    else:
        source = OpenCVSource(clip)
    recorder, _, settings = door.run_door(enrolled, tmp_path, pipeline, source)
    events = journal_lines(settings.journal_path())
    assert [e["event_id"] for e in events] == [e["event_id"] for e in recorder.events]
    for event in events:
        validate_event(event)
    access = [e for e in events if e["type"] == "access"]
    assert access and access[0]["reasons"][0] == reason
    alarms = [e["kind"] for e in events if e["type"] == "alarm"]
    assert alarms == (["spoof_attempt"] if case == "photo" else [])
    # What the listener (and the MQTT sink next) is handed is the journal's event, unchanged.
    assert [published(e) for e in recorder.events] == events
