"""Signed commands, sealed replies, topics, the [mqtt] settings and HA discovery: no broker."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given, settings
from hypothesis import strategies as st

from facegate.config import settings_from_dict
from facegate.errors import ConfigError
from facegate.mqtt.commands import (
    MAX_PAYLOAD,
    Command,
    CommandVerifier,
    Rejection,
    open_reply,
    seal_reply,
    sign_command,
)
from facegate.mqtt.ha_discovery import discovery_messages
from facegate.mqtt.mqtt_link import wants_fallback
from facegate.mqtt.topics import COMMANDS, Topics

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
DEVICE = "door-1"
NOW = 1_800_000_000.0
WINDOW = 30.0
NONCE = "0123456789abcdef0123"


class Nonces:
    """The nonce store's contract in memory, with a log of what the verifier asked."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.calls: list[tuple[str, int]] = []

    def __call__(self, nonce: str, ts: int) -> bool:
        self.calls.append((nonce, ts))
        if nonce in self.seen:
            return False
        self.seen.add(nonce)
        return True


def verifier(nonces: Nonces | None = None, key: bytes | None = KEY) -> CommandVerifier:
    return CommandVerifier(key, DEVICE, WINDOW, nonces or Nonces(), max_unlock_s=10.0)


def sign(
    name: str,
    args: dict | None = None,
    *,
    ts: float = NOW,
    nonce: str = NONCE,
    key: bytes = KEY,
    device: str = DEVICE,
) -> bytes:
    return sign_command(key, device, name, args, ts=int(ts), nonce=nonce)


def signed_body(body: str | dict | list, key: bytes = KEY) -> bytes:
    """A payload whose body is exactly ``body`` (serialised when not a string), well signed."""
    text = body if isinstance(body, str) else json.dumps(body)
    sig = hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
    return json.dumps({"body": text, "sig": sig}).encode()


def body(name: str = "unlock", **fields) -> dict:
    out = {"cmd": name, "device_id": DEVICE, "ts": int(NOW), "nonce": NONCE, "args": {}}
    out.update(fields)
    return out


def reason(result: Command | Rejection) -> str:
    assert isinstance(result, Rejection), f"accepted: {result}"
    return result.reason


# -- accepted --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("unlock", {}),
        ("unlock", {"seconds": 5}),
        ("unlock", {"seconds": 0.5}),
        ("unlock", {"seconds": 10.0}),
        ("lockdown", {"on": True}),
        ("lockdown", {"on": False}),
        ("reload", {}),
        ("reload", {"what": "gallery"}),
        ("reload", {"what": "roster"}),
        ("reload", {"what": "all"}),
        ("override", {"student_id": "s1234567"}),
        ("override", {"student_id": "ada.lovelace@uni", "valid_s": 60}),
        ("override", {"student_id": "S-9_x", "valid_s": 86400}),
    ],
)
def test_a_signed_command_is_accepted(name: str, args: dict) -> None:
    nonces = Nonces()
    got = verifier(nonces).check(name, sign(name, args), NOW)
    assert got == Command(name, NONCE, int(NOW), args)
    assert nonces.calls == [(NONCE, int(NOW))]


def test_the_window_edges_are_inside() -> None:
    v = verifier()
    early = sign("unlock", ts=NOW - WINDOW, nonce="a" * 16)
    late = sign("unlock", ts=NOW + WINDOW, nonce="b" * 16)
    assert isinstance(v.check("unlock", early, NOW), Command)
    assert isinstance(v.check("unlock", late, NOW), Command)


def test_a_version_2_body_carries_the_operator_and_is_signed_with_it() -> None:
    payload = sign_command(
        KEY, DEVICE, "lockdown", {"on": True}, ts=int(NOW), nonce=NONCE, operator="Ada Proctor"
    )
    body_text = json.loads(payload)["body"]
    assert json.loads(body_text)["v"] == 2 and json.loads(body_text)["operator"] == "Ada Proctor"
    got = verifier().check("lockdown", payload, NOW)
    assert got == Command("lockdown", NONCE, int(NOW), {"on": True}, "Ada Proctor")


def test_a_version_1_body_is_still_accepted_for_one_release_without_an_operator() -> None:
    got = verifier().check("unlock", signed_body(body("unlock")), NOW)
    assert isinstance(got, Command) and got.operator is None
    explicit = verifier().check("unlock", signed_body(body("unlock", v=1)), NOW)
    assert isinstance(explicit, Command) and explicit.operator is None


@pytest.mark.parametrize(
    "fields",
    [
        {"v": 2},  # no operator
        {"v": 2, "operator": ""},
        {"v": 2, "operator": "x" * 65},
        {"v": 2, "operator": "eve\nroot"},  # a forged second line in a log
        {"v": 2, "operator": 7},
        {"v": 3, "operator": "ada"},
        {"v": True, "operator": "ada"},
        {"v": "2", "operator": "ada"},
        {"operator": "ada"},  # an operator needs version 2
    ],
)
def test_a_bad_version_or_operator_is_malformed_and_burns_no_nonce(fields: dict) -> None:
    nonces = Nonces()
    got = verifier(nonces).check("unlock", signed_body(body("unlock", **fields)), NOW)
    assert reason(got) == "malformed"
    assert nonces.calls == []


# -- rejected --------------------------------------------------------------------------------


def test_unknown_command() -> None:
    got = verifier().check("open", sign("unlock"), NOW)
    assert reason(got) == "unknown_command"
    assert reason(verifier().check("result", b"{}", NOW)) == "unknown_command"
    assert reason(verifier().check("x" * 1000, b"{}", NOW)) == "unknown_command"


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"unlock",
        b"\xff\xfe{}",  # not UTF-8
        b"[1, 2]",
        b'"body"',
        b'{"sig": "00"}',
        b'{"body": {"cmd": "unlock"}, "sig": "00"}',  # body must be the signed string
        b'{"body": 5}',
        b" " * (MAX_PAYLOAD + 1),
        b"[" * 4000,  # nested past the parser's recursion limit, unsigned
        b'{"body":' * 500,
    ],
)
def test_malformed_payloads(payload: bytes) -> None:
    nonces = Nonces()
    assert reason(verifier(nonces).check("unlock", payload, NOW)) == "malformed"
    assert nonces.calls == []


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("not json", "body is not JSON"),
        ("[]", "body is not an object"),
        (json.dumps(body(nonce="short")), "nonce"),
        (json.dumps(body(nonce="has space in it!!")), "nonce"),
        (json.dumps(body(nonce="x" * 65)), "nonce"),
        (json.dumps({k: v for k, v in body().items() if k != "nonce"}), "nonce"),
        (json.dumps(body(ts=NOW)), "ts must be an integer"),
        (json.dumps(body(ts=str(int(NOW)))), "ts must be an integer"),
        (json.dumps(body(ts=True)), "ts must be an integer"),
        (json.dumps({k: v for k, v in body().items() if k != "ts"}), "ts must be an integer"),
    ],
)
def test_malformed_signed_bodies(text: str, detail: str) -> None:
    nonces = Nonces()
    got = verifier(nonces).check("unlock", signed_body(text), NOW)
    assert reason(got) == "malformed" and detail in got.detail
    assert nonces.calls == []


def test_the_body_must_name_the_topics_command() -> None:
    nonces = Nonces()
    got = verifier(nonces).check("unlock", sign("lockdown", {"on": False}), NOW)
    assert reason(got) == "malformed" and "differs from the topic" in got.detail
    assert got.nonce == NONCE and nonces.calls == []


def test_unsigned() -> None:
    payload = json.dumps({"body": json.dumps(body())}).encode()
    assert reason(verifier().check("unlock", payload, NOW)) == "unsigned"
    # A door without a command key refuses everything, even a well signed command.
    got = verifier(key=None).check("unlock", sign("unlock"), NOW)
    assert reason(got) == "unsigned" and "no command key" in got.detail


@pytest.mark.parametrize(
    "payload",
    [
        sign("unlock", key=OTHER_KEY),
        signed_body(body(), key=OTHER_KEY),
        json.dumps({"body": json.dumps(body()), "sig": "A" * 64}).encode(),  # upper case
        json.dumps({"body": json.dumps(body()), "sig": "0" * 63}).encode(),
        json.dumps({"body": json.dumps(body()), "sig": 12345}).encode(),
        json.dumps({"body": json.dumps(body()), "sig": ["0" * 64]}).encode(),
        b'{"body": "\\ud800", "sig": "' + b"0" * 64 + b'"}',  # a lone surrogate in the body
    ],
)
def test_bad_signatures(payload: bytes) -> None:
    nonces = Nonces()
    assert reason(verifier(nonces).check("unlock", payload, NOW)) == "bad_signature"
    assert nonces.calls == []


def test_a_body_changed_after_signing_is_a_bad_signature() -> None:
    outer = json.loads(sign("unlock", {"seconds": 2}))
    outer["body"] = outer["body"].replace('"seconds":2', '"seconds":9')
    got = verifier().check("unlock", json.dumps(outer).encode(), NOW)
    assert reason(got) == "bad_signature"


def test_a_wrong_signature_does_not_use_up_the_nonce() -> None:
    nonces = Nonces()
    v = verifier(nonces)
    forged = sign("unlock", key=OTHER_KEY)  # same nonce, wrong key
    assert reason(v.check("unlock", forged, NOW)) == "bad_signature"
    assert nonces.calls == [] and nonces.seen == set()
    assert isinstance(v.check("unlock", sign("unlock"), NOW), Command)


@pytest.mark.parametrize("offset", [-(WINDOW + 1), WINDOW + 1, -86400, 86400])
def test_stale_both_ways(offset: float) -> None:
    nonces = Nonces()
    got = verifier(nonces).check("unlock", sign("unlock", ts=NOW + offset), NOW)
    assert reason(got) == "stale"
    assert f"{-offset:+.0f} s" in got.detail
    assert nonces.calls == []  # a stale command does not use up its nonce


def test_replayed() -> None:
    v = verifier()
    payload = sign("lockdown", {"on": True})
    assert isinstance(v.check("lockdown", payload, NOW), Command)
    got = v.check("lockdown", payload, NOW + 1)
    assert reason(got) == "replayed" and got.nonce == NONCE
    # The same nonce in another command, freshly signed, is a replay too.
    assert reason(v.check("unlock", sign("unlock"), NOW)) == "replayed"


def test_wrong_device() -> None:
    nonces = Nonces()
    got = verifier(nonces).check("unlock", sign("unlock", device="door-2"), NOW)
    assert reason(got) == "wrong_device" and nonces.calls == []


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("unlock", {"seconds": 0.4}),
        ("unlock", {"seconds": 10.5}),  # over max_remote_unlock_s
        ("unlock", {"seconds": -1}),
        ("unlock", {"seconds": "5"}),
        ("unlock", {"seconds": True}),
        ("unlock", {"seconds": None}),
        ("unlock", {"seconds": float("nan")}),  # json writes NaN and reads it back
        ("unlock", {"seconds": float("inf")}),
        ("unlock", {"seconds": 5, "door": 2}),
        ("lockdown", {}),
        ("lockdown", {"on": "yes"}),
        ("lockdown", {"on": 1}),
        ("lockdown", {"on": True, "why": "x"}),
        ("reload", {"what": "everything"}),
        ("reload", {"what": None}),
        ("reload", {"what": ["gallery"]}),
        ("override", {}),
        ("override", {"student_id": ""}),
        ("override", {"student_id": "has space"}),
        ("override", {"student_id": "../etc/passwd"}),
        ("override", {"student_id": "x" * 65}),
        ("override", {"student_id": 1234567}),
        ("override", {"student_id": "s1", "valid_s": 59}),
        ("override", {"student_id": "s1", "valid_s": 86401}),
        ("override", {"student_id": "s1", "valid_s": "3600"}),
        ("override", {"student_id": "s1", "valid_s": 3600.0}),
        ("override", {"student_id": "s1", "valid_s": True}),
        ("override", {"student_id": "s1", "code": "123456"}),
    ],
)
def test_bad_args(name: str, args: dict) -> None:
    nonces = Nonces()
    got = verifier(nonces).check(name, sign(name, args), NOW)
    assert reason(got) == "bad_args", got
    assert got.name == name and got.nonce == NONCE
    assert nonces.calls == []  # refused arguments do not use up the nonce


@pytest.mark.parametrize("args", [[], "seconds=5", 5, None])
def test_args_must_be_an_object(args: object) -> None:
    got = verifier().check("unlock", signed_body(body(args=args)), NOW)
    if args is None:  # "args": null is not {} either
        assert reason(got) == "bad_args"
    else:
        assert reason(got) == "bad_args" and "object" in got.detail


# -- never raises --------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(COMMANDS), payload=st.binary(max_size=MAX_PAYLOAD + 10))
def test_arbitrary_payloads_are_rejected_without_raising(name: str, payload: bytes) -> None:
    nonces = Nonces()
    got = verifier(nonces).check(name, payload, NOW)
    assert isinstance(got, Rejection)
    assert nonces.calls == []


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(COMMANDS),
    ts=st.one_of(st.integers(min_value=-(2**63), max_value=2**63), _JSON),
    nonce=st.one_of(st.from_regex(r"\A[A-Za-z0-9_-]{16,64}\Z"), _JSON),
    args=st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "seconds": _JSON,
                "on": _JSON,
                "what": _JSON,
                "student_id": _JSON,
                "valid_s": _JSON,
            },
        ),
        _JSON,
    ),
)
def test_arbitrary_signed_bodies_never_raise(name: str, ts, nonce, args) -> None:
    """Past the signature: any field of any JSON type gives a Command or a Rejection."""
    text = json.dumps({"cmd": name, "device_id": DEVICE, "ts": ts, "nonce": nonce, "args": args})
    got = verifier().check(name, signed_body(text), NOW)
    assert isinstance(got, Command | Rejection)
    if isinstance(got, Command):
        assert got.nonce == nonce and abs(got.ts - NOW) <= WINDOW


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(json.dumps(body(ts=10**400)), id="huge-ts"),
        pytest.param(json.dumps(body(args={"seconds": 10**400})), id="huge-seconds"),
        pytest.param("[" * 2000, id="deep-body"),  # under MAX_PAYLOAD once signed
    ],
)
def test_signed_bodies_that_overflow_are_rejected(text: str) -> None:
    got = verifier().check("unlock", signed_body(text), NOW)
    assert isinstance(got, Rejection)


# -- sealed replies ------------------------------------------------------------------------------


def test_a_sealed_reply_opens_with_the_key_and_its_command_nonce() -> None:
    token = seal_reply(KEY, NONCE, "493817")
    assert "493817" not in token
    assert open_reply(KEY, NONCE, token) == "493817"
    assert seal_reply(KEY, NONCE, "493817") != token  # a fresh IV every time
    with pytest.raises(InvalidTag):
        open_reply(KEY, "another-nonce-0000", token)  # not passed off as another's reply
    with pytest.raises(InvalidTag):
        open_reply(OTHER_KEY, NONCE, token)
    raw = bytearray(token.encode())
    raw[20] = ord("A") if raw[20] != ord("A") else ord("B")
    with pytest.raises(InvalidTag):
        open_reply(KEY, NONCE, raw.decode())


# -- MQTT version fallback, topics -------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "protocol", "connack", "expected"),
    [
        ("auto", mqtt.MQTTv5, 0x84, True),  # 5: unsupported protocol version
        ("auto", mqtt.MQTTv5, 1, True),  # a 3.1.1-only broker's refusal
        ("auto", mqtt.MQTTv5, 0x86, False),  # bad user name or password: no retry
        ("auto", mqtt.MQTTv5, 0x87, False),  # not authorised
        ("auto", mqtt.MQTTv5, 0, False),
        ("auto", mqtt.MQTTv311, 1, False),  # already on 3.1.1
        ("5", mqtt.MQTTv5, 0x84, False),  # pinned to 5: no fallback
        ("3.1.1", mqtt.MQTTv311, 1, False),
    ],
)
def test_wants_fallback(setting: str, protocol: int, connack: int, expected: bool) -> None:
    assert wants_fallback(setting, protocol, connack) is expected


def test_topics_and_command_names() -> None:
    t = Topics("facegate/door-1")
    assert t.commands == "facegate/door-1/cmd/+"
    for name in COMMANDS:
        assert t.command_name(t.command(name)) == name
    assert t.command_name(t.command_result) is None
    assert t.command_name("facegate/door-1/event/access") is None
    assert t.command_name("facegate/door-10/cmd/unlock") is None
    assert t.command_name("other/facegate/door-1/cmd/unlock") is None
    assert t.command_name("facegate/door-1/cmd/open") == "open"  # the verifier refuses it
    assert t.event_topic({"type": "access"}) == t.access == "facegate/door-1/event/access"
    assert t.event_topic({"type": "alarm"}) == t.alarm == "facegate/door-1/event/alarm"


# -- the [mqtt] settings --------------------------------------------------------------------------


def test_valid_mqtt_settings(tmp_path: Path) -> None:
    password = tmp_path / "mqtt.password"
    password.write_text("s3cret\nignored\n")
    key = tmp_path / "command.key"
    key.write_bytes(bytes(32))
    s = settings_from_dict(
        {
            "device": {"id": "lab.door-2"},
            "mqtt": {
                "enabled": True,
                "host": "broker.example",
                "username": "door-2",
                "password_file": str(password),
                "command_key_file": str(key),
                "topic_prefix": "site/a/door-2",
                "tls": {},
            },
        }
    )
    assert s.mqtt.password() == "s3cret"
    assert s.mqtt.prefix("lab.door-2") == "site/a/door-2"
    assert s.mqtt.tls is not None and s.mqtt.tls.ca_file is None
    assert settings_from_dict({}).mqtt.prefix("door-1") == "facegate/door-1"


def _config_error(mqtt_section: dict) -> str:
    with pytest.raises(ConfigError) as err:
        settings_from_dict({"mqtt": mqtt_section}, "door.toml")
    text = str(err.value)
    assert "door.toml" in text
    return text


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("topic_prefix", "facegate/#"),
        ("topic_prefix", "facegate/+/door"),
        ("topic_prefix", "/facegate"),
        ("topic_prefix", "facegate/"),
        ("topic_prefix", ""),
        ("topic_prefix", "a\0b"),
        ("discovery_prefix", "home#assistant"),
        ("discovery_prefix", "/homeassistant"),
    ],
)
def test_unusable_topic_prefixes(key: str, value: str) -> None:
    text = _config_error({key: value})
    assert f"mqtt.{key}" in text and "not a usable topic prefix" in text


def test_password_file_needs_a_username(tmp_path: Path) -> None:
    password = tmp_path / "p"
    password.write_text("x\n")
    text = _config_error({"password_file": str(password)})
    assert "mqtt.password_file needs mqtt.username" in text


@pytest.mark.parametrize("key", ["password_file", "command_key_file"])
def test_missing_secret_files(tmp_path: Path, key: str) -> None:
    missing = tmp_path / "nope"
    text = _config_error({"username": "door-1", key: str(missing)})
    assert f"mqtt.{key}" in text and str(missing) in text and "does not exist" in text


def test_tls_settings(tmp_path: Path) -> None:
    cert = tmp_path / "door.crt"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    text = _config_error({"tls": {"cert_file": str(cert)}})
    assert "mqtt.tls" in text and "go together" in text
    text = _config_error({"tls": {"key_file": str(cert)}})
    assert "go together" in text
    text = _config_error({"tls": {"ca_file": str(tmp_path / "ca.crt")}})
    assert "mqtt.tls" in text and "ca_file" in text and "does not exist" in text
    text = _config_error({"tls": {"cafile": str(cert)}})
    assert "mqtt.tls.cafile" in text and "unknown key" in text


def test_other_bad_mqtt_values() -> None:
    assert "mqtt.port" in _config_error({"port": 0})
    assert "mqtt.protocol" in _config_error({"protocol": "4"})
    text = _config_error({"reconnect_min_s": 10, "reconnect_max_s": 5})
    assert "mqtt.reconnect_max_s" in text
    assert "mqtt.hots" in _config_error({"hots": "broker"})


# -- Home Assistant discovery --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("device_id", "prefix"), [("door-1", "homeassistant"), ("lab.door-2", "ha")]
)
def test_discovery_messages(device_id: str, prefix: str) -> None:
    topics = Topics(f"facegate/{device_id}")
    messages = discovery_messages(topics, device_id, "B-204", prefix)
    assert len(messages) >= 5
    node = "facegate_" + device_id.replace(".", "_")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", node)  # HA's rule for a node id
    shape = re.compile(rf"{re.escape(prefix)}/(binary_sensor|sensor|event)/{node}/([a-z_]+)/config")
    unique_ids = set()
    for topic, payload in messages:
        match = shape.fullmatch(topic)
        assert match, topic
        config = json.loads(payload)
        assert config["availability_topic"] == topics.status
        assert config["payload_available"] == "online"
        assert config["payload_not_available"] == "offline"
        assert config["unique_id"] == f"{node}_{match.group(2)}"
        # HA 2026.4 dropped object_id: the entity id is proposed as domain.slug.
        assert config["default_entity_id"] == f"{match.group(1)}.{node}_{match.group(2)}"
        assert "object_id" not in config
        assert config["origin"]["name"] == "facegate" and config["origin"]["sw_version"]
        assert config["device"]["sw_version"] == config["origin"]["sw_version"]
        assert config["device"]["identifiers"] == [node]
        assert "B-204" in config["device"]["name"]
        assert config["state_topic"].startswith(f"facegate/{device_id}/")
        assert "command_topic" not in config  # read-only: commands must be signed
        unique_ids.add(config["unique_id"])
    assert len(unique_ids) == len(messages)
    lock = json.loads(dict(messages)[f"{prefix}/binary_sensor/{node}/lock/config"])
    assert lock["device_class"] == "lock" and lock["state_topic"] == topics.door_state
    access = json.loads(dict(messages)[f"{prefix}/event/{node}/access/config"])
    assert access["state_topic"] == topics.access
    assert access["event_types"] == ["granted", "denied"]


def test_a_refusal_before_the_signature_carries_the_nonce_for_the_operator() -> None:
    """An operator with the wrong key, or a door without one, still gets an answer it can match."""
    wrong_key = verifier().check("unlock", sign("unlock", key=OTHER_KEY), NOW)
    assert isinstance(wrong_key, Rejection) and wrong_key.nonce == NONCE
    no_key = verifier(key=None).check("unlock", sign("unlock"), NOW)
    assert isinstance(no_key, Rejection) and (no_key.reason, no_key.nonce) == ("unsigned", NONCE)
    garbage = verifier().check("unlock", b'{"body": "[[[", "sig": "00"}', NOW)
    assert isinstance(garbage, Rejection) and garbage.nonce is None


@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    [
        ("reload", sign("reload", nonce=NONCE + "\n"), "malformed"),
        ("override", sign("override", {"student_id": "stu-42\n"}), "bad_args"),
    ],
    ids=["nonce", "student_id"],
)
def test_a_trailing_newline_is_not_part_of_a_valid_id(
    name: str, payload: bytes, expected: str
) -> None:
    """``$`` matches before a final newline; the checks use fullmatch."""
    assert reason(verifier().check(name, payload, NOW)) == expected
