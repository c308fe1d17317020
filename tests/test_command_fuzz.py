"""The remote-command bar: over 1,000 bad commands, no relay actuation, no crash, each answered.

A real :class:`DoorService` (mock pins, an empty room on camera) is connected to Mosquitto over
TLS as door-1 with a command key. As ``admin``, whom the ACL lets command any door, the test
publishes on ``facegate/door-1/cmd/<name>``: malformed, unsigned, wrongly signed, stale and
replayed commands, unknown command names, binary and non-UTF-8 garbage, payloads up to 16 MiB,
JSON of every wrong shape, every field of the signed body with wrong types and values. Part of
them are drawn by Hypothesis, derandomised, so every run sends the same ones.

Exactly one valid command is sent, a ``reload`` of the roster (harmless), and it is accepted;
its replays are refused. No valid ``unlock`` is sent at all, so the relay must never turn on.

The door answers every message on ``cmd/+`` on ``cmd/result``, in order (one publisher, one
subscriber, QoS 1: the broker keeps the order), so the n-th answer belongs to the n-th command
that the door receives; messages on topics the door does not subscribe to get no answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from facegate.events.journal import read_journal
from facegate.hardware.mock_pins import on_periods
from facegate.mqtt.commands import MAX_PAYLOAD, sign_command
from facegate.mqtt.topics import COMMANDS
from tests import mosquitto_broker
from tests.event_schemas import validate_event
from tests.test_mqtt_door import DEVICE, PREFIX, RELAY, Client, Door, door_setup

secure_broker = mosquitto_broker.secure_broker

WINDOW = 60  # mqtt.command_window_s for this door
RESULT = f"{PREFIX}/cmd/result"
FORGED_RESULT = b'{"type": "command_result", "forged": "by the fuzz test"}'
DROP = object()  # remove the field from the body


@dataclass(frozen=True)
class Case:
    label: str
    name: str  # the last level of the topic: the command name as published
    payload: bytes
    reason: str | None  # the answer's expected reason; None: the door never receives it
    topic: str | None = None  # another topic than cmd/<name>
    retain: bool = False

    @property
    def where(self) -> str:
        return self.topic or f"{PREFIX}/cmd/{self.name}"


def hmac_hex(key: bytes, text: str | bytes, digest=hashlib.sha256) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hmac.new(key, data, digest).hexdigest()


def envelope(body: str, sig: object = DROP) -> bytes:
    outer: dict = {"body": body}
    if sig is not DROP:
        outer["sig"] = sig
    return json.dumps(outer).encode()


def examples(strategy: st.SearchStrategy, n: int) -> list:
    """``n`` values drawn by Hypothesis, the same ones on every run (derandomised)."""
    out: list = []

    @settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value) -> None:
        out.append(value)

    collect()
    return out


_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
JSON = st.recursive(
    _LEAF,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
NOT_A_STRING = JSON.filter(lambda v: not isinstance(v, str))
HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)


def is_envelope(payload: bytes) -> bool:
    """Could the door read ``payload`` as {"body": <string>, ...}? (then it is not garbage)"""
    try:
        outer = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(outer, dict) and isinstance(outer.get("body"), str)


class Cases:
    """The bad commands, each with the reason the door must give."""

    def __init__(self, key: bytes, wrong_key: bytes, now: int) -> None:
        self.key = key
        self.wrong_key = wrong_key
        self.now = now
        self.items: list[Case] = []
        self._nonces = 0
        self.drawn: list = []  # what Hypothesis drew, to show the runs draw the same

    def nonce(self) -> str:
        self._nonces += 1
        return f"fuzz-{self._nonces:027d}"

    def body(self, name: str, **changes) -> dict:
        args = {
            "unlock": {"seconds": 2},
            "lockdown": {"on": True},
            "reload": {"what": "all"},
            "override": {"student_id": "stu-42"},
        }.get(name, {})
        body = {
            "cmd": name,
            "device_id": DEVICE,
            "ts": self.now,
            "nonce": self.nonce(),
            "args": args,
        }
        for field, value in changes.items():
            if value is DROP:
                del body[field]
            else:
                body[field] = value
        return body

    def signed(self, body: dict | str, key: bytes | None = None) -> bytes:
        text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
        return envelope(text, hmac_hex(key or self.key, text))

    def add(self, label: str, name: str, payload: bytes, reason: str | None, **kw) -> None:
        self.items.append(Case(label, name, payload, reason, **kw))

    def cycle(self, i: int) -> str:
        return COMMANDS[i % len(COMMANDS)]

    # -- the categories ------------------------------------------------------------------------

    def unknown_names(self) -> None:
        names = [
            "UNLOCK",
            "Unlock",
            "unlock ",
            " unlock",
            "open",
            "unlock2",
            "unlocks",
            "lock",
            "results",
            "Result",
            "status",
            "",
            "..",
            "%75nlock",
            "ünlock",
            "🔓",
            "unlock;reload",
            "x" * 300,
            "cmd",
            "override ",
            "Reload",
        ]
        for name in names:
            body = self.body("unlock")
            self.add(
                f"unknown {name[:12]!r}: signed for its name",
                name,
                self.signed({**body, "cmd": name}),
                "unknown_command",
            )
            self.add(
                f"unknown {name[:12]!r}: a valid unlock",
                name,
                self.signed(self.body("unlock")),
                "unknown_command",
            )
            self.add(f"unknown {name[:12]!r}: garbage", name, b"\x00garbage\xff", "unknown_command")

    def not_for_the_door(self) -> None:
        """Topics the door does not subscribe to: no answer, and certainly no action."""
        unlock = self.signed(self.body("unlock"))
        for topic in [
            f"{PREFIX}/cmd/unlock/now",
            f"{PREFIX}/cmd/unlock/",
            f"{PREFIX}/cmd",
            f"{PREFIX}/cmdunlock",
            f"{PREFIX}/CMD/unlock",
            f"{PREFIX}//cmd/unlock",
            "facegate/door-2/cmd/unlock",
            "facegate/door-1/cmd/unlock/../reload",
        ]:
            self.add(f"not subscribed: {topic}", "-", unlock, None, topic=topic)
        # A forged answer: the door must not take its own result topic for a command.
        self.add("forged result", "-", FORGED_RESULT, None, topic=RESULT)

    def garbage(self) -> None:
        valid = self.signed(self.body("unlock"))
        body_text = json.dumps(self.body("unlock"))
        sig = hmac_hex(self.key, body_text)
        fixed: list[tuple[str, bytes]] = [
            ("empty", b""),
            ("space", b" "),
            ("null", b"null"),
            ("true", b"true"),
            ("zero", b"0"),
            ("minus one", b"-1"),
            ("1e999", b"1e999"),
            ("NaN", b"NaN"),
            ("Infinity", b"Infinity"),
            ("a string", b'"body"'),
            ("empty array", b"[]"),
            ("array of object", b"[{}]"),
            ("array holding a valid command", b"[" + valid + b"]"),
            ("array of body and sig", json.dumps([body_text, sig]).encode()),
            ("empty object", b"{}"),
            ("body null", b'{"body": null}'),
            ("body number", json.dumps({"body": 1, "sig": sig}).encode()),
            ("body as an object", json.dumps({"body": json.loads(body_text), "sig": sig}).encode()),
            ("body as a list", json.dumps({"body": [body_text], "sig": sig}).encode()),
            ("Body capitalised", json.dumps({"Body": body_text, "sig": sig}).encode()),
            ("sig only", json.dumps({"sig": sig}).encode()),
            ("open brace", b"{"),
            ("close brace", b"}"),
            ("trailing comma", b'{"body": "x", "sig": "y",}'),
            ("python repr", repr({"body": body_text, "sig": sig}).encode()),
            ("UTF-8 BOM", b"\xef\xbb\xbf" + valid),
            ("NULs", b"\x00" * 10),
            ("valid then NUL", valid + b"\x00"),
            ("valid then junk", valid + b" junk"),
            ("two commands", valid + valid),
            ("nested arrays", b"[" * 1000),
            ("nested objects", b'{"a":' * 1000),
            ("nested arrays at the size limit", b"[" * MAX_PAYLOAD),
            ("0xff", b"\xff"),
            ("UTF-16", valid.decode().encode("utf-16")),
            ("UTF-32", valid.decode().encode("utf-32")),
            (
                "Latin-1 text",
                json.dumps({"body": "café", "sig": sig}, ensure_ascii=False).encode("latin-1"),
            ),
            ("overlong NUL", b'{"body": "\xc0\x80", "sig": "00"}'),
            ("CESU surrogate", b'{"body": "\xed\xa0\x80"}'),
            ("past U+10FFFF", b'{"body": "\xf4\x90\x80\x80"}'),
            ("UTF-8 then 0xff", valid[:-2] + b"\xff" + valid[-2:]),
        ]
        for i, (label, payload) in enumerate(fixed):
            self.add(f"garbage: {label}", self.cycle(i), payload, "malformed")
        # Retained: acted on (refused) live; the empty retained message that clears it too.
        self.add("retained garbage", "reload", b"retained garbage", "malformed", retain=True)
        self.add("retained empty (clears it)", "reload", b"", "malformed", retain=True)

    def huge(self) -> None:
        unlock = self.body("unlock")
        text = json.dumps(unlock, separators=(",", ":"))
        pad = MAX_PAYLOAD  # whitespace after the JSON: still the same command, signed
        self.add(
            "a valid unlock padded past the limit",
            "unlock",
            self.signed(text + " " * pad),
            "malformed",
        )
        room = MAX_PAYLOAD - len(envelope(text, "0" * 64))
        at_limit = envelope(text + " " * room, "0" * 64)
        assert len(at_limit) == MAX_PAYLOAD
        self.add("exactly at the limit, bad sig", "unlock", at_limit, "bad_signature")
        over = envelope(text + " " * (room + 1), "0" * 64)
        assert len(over) == MAX_PAYLOAD + 1
        self.add("one byte over the limit", "unlock", over, "malformed")
        for size in (MAX_PAYLOAD + 1, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024):
            blob = (hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1))[:size]
            self.add(f"{size} bytes of noise", "unlock", blob, "malformed")
        self.add("1 MiB of JSON", "reload", json.dumps({"body": "x" * 2**20}).encode(), "malformed")

    def unsigned(self) -> None:
        for name in COMMANDS:
            text = json.dumps(self.body(name))
            self.add(f"unsigned {name}", name, envelope(text), "unsigned")
            self.add(f"sig null {name}", name, envelope(text, None), "unsigned")
        self.add("unsigned empty body", "unlock", envelope(""), "unsigned")
        self.add(
            "unsigned junk body",
            "unlock",
            json.dumps({"body": "junk", "x": 1}).encode(),
            "unsigned",
        )

    def bad_signatures(self) -> None:
        text = json.dumps(self.body("unlock"), separators=(",", ":"))
        good = hmac_hex(self.key, text)
        flipped = good[:10] + ("0" if good[10] != "0" else "1") + good[11:]
        other_text = json.dumps(self.body("unlock", args={"seconds": 5}), separators=(",", ":"))
        key_text = base64.urlsafe_b64encode(self.key)
        sigs: list[tuple[str, object]] = [
            ("zero", 0),
            ("one", 1),
            ("true", True),
            ("false", False),
            ("float", 1.5),
            ("empty list", []),
            ("empty object", {}),
            ("list of the sig", [good]),
            ("empty string", ""),
            ("63 hex", good[:63]),
            ("65 hex", good + "0"),
            ("non-hex", "g" * 64),
            ("upper case", good.upper()),
            ("leading space", " " + good[:63]),
            ("base64 of the mac", base64.b64encode(bytes.fromhex(good)).decode()),
            ("sha256 without key", hashlib.sha256(text.encode()).hexdigest()),
            ("hmac-sha1", hmac_hex(self.key, text, hashlib.sha1)),
            ("hmac-sha512 cut", hmac_hex(self.key, text, hashlib.sha512)[:64]),
            ("another key", hmac_hex(self.wrong_key, text)),
            ("the key file's text as key", hmac.new(key_text, text.encode(), "sha256").hexdigest()),
            ("over body + newline", hmac_hex(self.key, text + "\n")),
            ("over another body", hmac_hex(self.key, other_text)),
            ("over the body re-serialised", hmac_hex(self.key, json.dumps(json.loads(text)))),
            ("one digit flipped", flipped),
            ("all zero", "0" * 64),
        ]
        for label, sig in sigs:
            self.add(f"bad sig: {label}", "unlock", envelope(text, sig), "bad_signature")
        # A lone surrogate in the body cannot be UTF-8 encoded to check the signature.
        self.add(
            "bad sig: lone surrogate body",
            "unlock",
            b'{"body": "\\ud800", "sig": "' + b"0" * 64 + b'"}',
            "bad_signature",
        )
        bad = json.dumps(self.body("unlock"))[:-1] + ', "x": "\udfff"}'  # a real surrogate
        self.add(
            "bad sig: surrogate in a command", "unlock", envelope(bad, "f" * 64), "bad_signature"
        )

    def signed_but_wrong(self) -> None:
        """Signed with the door's own key, and wrong in the body."""
        for i, text in enumerate(
            ["", " ", "unlock", "{", "{'cmd': 'unlock'}", "[]", "1", '"x"', "null", "true"]
        ):
            self.add(f"signed body {text!r}", self.cycle(i), self.signed(text), "malformed")
        self.add("signed deep body", "unlock", self.signed("[" * 2000), "malformed")
        self.add(
            "signed list of a body",
            "unlock",
            self.signed(json.dumps([self.body("unlock")])),
            "malformed",
        )
        for i, nonce in enumerate(
            [
                DROP,
                None,
                1,
                1.5,
                True,
                [],
                {},
                "",
                "a" * 15,
                "a" * 65,
                "a" * 15 + "!",
                "nonce with spaces 123",
                "ü" * 16,
                "../../etc/passwd-x",
                "a" * 16 + "\u2028",
            ]
        ):
            name = self.cycle(i)
            self.add(
                f"nonce {nonce!r}", name, self.signed(self.body(name, nonce=nonce)), "malformed"
            )
        for i, cmd in enumerate([DROP, None, 1, ["unlock"]]):
            name = self.cycle(i)
            self.add(f"cmd {cmd!r}", name, self.signed(self.body(name, cmd=cmd)), "malformed")
        for name in COMMANDS:  # the body names another command than the topic
            other = COMMANDS[(COMMANDS.index(name) + 1) % len(COMMANDS)]
            self.add(f"cmd {other} on {name}", name, self.signed(self.body(other)), "malformed")
            self.add(
                f"cmd {name.upper()}",
                name,
                self.signed(self.body(name, cmd=name.upper())),
                "malformed",
            )
        for i, device in enumerate(
            [DROP, None, "door-2", "DOOR-1", "door-1 ", "", 1, ["door-1"], "door-1\n", "door-*"]
        ):
            name = self.cycle(i)
            self.add(
                f"device {device!r}",
                name,
                self.signed(self.body(name, device_id=device)),
                "wrong_device",
            )
        n = self.now
        for i, ts in enumerate(
            [
                DROP,
                None,
                "now",
                str(n),
                float(n),
                n + 0.5,
                True,
                False,
                [n],
                {"t": n},
                float("inf"),
                float("nan"),
                2**53 + 1,
                -(2**53) - 1,
                10**400,
            ]
        ):
            name = self.cycle(i)
            self.add(f"ts {ts!r}", name, self.signed(self.body(name, ts=ts)), "malformed")
        for i, ts in enumerate(
            [n - WINDOW - 30, n + WINDOW + 30, n - 86400, n + 86400, 0, -1, 2**31, 2**53, -(2**53)]
        ):
            name = self.cycle(i)
            self.add(f"ts {ts - n:+d} s", name, self.signed(self.body(name, ts=ts)), "stale")
        for i, args in enumerate([[], "seconds=5", 5, True, None, [["seconds", 2]]]):
            name = self.cycle(i)
            self.add(f"args {args!r}", name, self.signed(self.body(name, args=args)), "bad_args")
        bad_args = {
            "unlock": [
                {"seconds": s}
                for s in (
                    0,
                    0.49,
                    10.01,
                    11,
                    -1,
                    1e9,
                    "3",
                    True,
                    None,
                    [],
                    {},
                    float("nan"),
                    float("inf"),
                    float("-inf"),
                    10**400,
                    -(10**400),
                )
            ]
            + [{"seconds": 1, "door": 2}, {"force": True}],
            "lockdown": [
                {},
                {"on": "true"},
                {"on": 1},
                {"on": None},
                {"on": True, "x": 1},
                {"off": True},
            ],
            "reload": [{"what": w} for w in ("everything", None, 1, ["all"], "ALL", "")]
            + [{"x": 1}],
            "override": [
                {},
                {"student_id": ""},
                {"student_id": "a b"},
                {"student_id": "x" * 65},
                {"student_id": 42},
                {"student_id": "../etc"},
                {"student_id": None},
            ]
            + [
                {"student_id": "stu-42", "valid_s": v}
                for v in (59, 86401, "3600", 3600.5, True, None)
            ]
            + [{"student_id": "stu-42", "code": "123456"}],
        }
        for name, cases in bad_args.items():
            for args in cases:
                self.add(
                    f"{name} args {args!r}"[:80],
                    name,
                    self.signed(self.body(name, args=args)),
                    "bad_args",
                )

    def replays(self, valid: bytes, nonce: str) -> None:
        """``valid`` (an accepted reload) sent again, re-wrapped, and its nonce re-used."""
        for i in range(60):
            self.add(f"replay {i}", "reload", valid, "replayed")
        text = json.loads(valid)["body"]
        sig = json.loads(valid)["sig"]
        rewrapped = [
            json.dumps({"sig": sig, "body": text}).encode(),
            json.dumps({"body": text, "sig": sig}, indent=2).encode(),
            json.dumps({"body": text, "sig": sig, "again": True}).encode(),
        ]
        for i, payload in enumerate(rewrapped):
            self.add(f"replay re-wrapped {i}", "reload", payload, "replayed")
        self.add("replay on another topic", "unlock", valid, "malformed")
        for name in COMMANDS:  # the same nonce, a new command, correctly signed and fresh
            self.add(
                f"nonce re-used for {name}",
                name,
                self.signed(self.body(name, nonce=nonce)),
                "replayed",
            )
            self.add(
                f"nonce re-used for {name}, later ts",
                name,
                self.signed(self.body(name, nonce=nonce, ts=self.now + 5)),
                "replayed",
            )

    def drawn_by_hypothesis(self) -> None:
        def draw(strategy: st.SearchStrategy, n: int) -> list:
            values = examples(strategy, n)
            self.drawn.append(values)
            return values

        for i, blob in enumerate(draw(st.binary(max_size=600), 150)):
            if not is_envelope(blob):
                self.add("hypothesis binary", self.cycle(i), blob, "malformed")
        for i, value in enumerate(draw(JSON.filter(lambda v: not isinstance(v, dict)), 100)):
            self.add(
                "hypothesis non-object", self.cycle(i), json.dumps(value).encode(), "malformed"
            )
        outer = st.fixed_dictionaries({"body": NOT_A_STRING}, optional={"sig": JSON, "x": JSON})
        for i, value in enumerate(draw(outer, 100)):
            self.add(
                "hypothesis body not a string",
                self.cycle(i),
                json.dumps(value).encode(),
                "malformed",
            )
        for i, text in enumerate(draw(st.text(max_size=200), 50)):
            self.add("hypothesis unsigned", self.cycle(i), envelope(text), "unsigned")
        not_hex = JSON.filter(lambda v: v is not None and not (isinstance(v, str) and len(v) == 64))
        for i, (text, sig) in enumerate(draw(st.tuples(st.text(max_size=200), not_hex), 100)):
            self.add("hypothesis sig not hex", self.cycle(i), envelope(text, sig), "bad_signature")
        for i, (text, sig) in enumerate(draw(st.tuples(st.text(max_size=200), HEX64), 100)):
            self.add("hypothesis random sig", self.cycle(i), envelope(text, sig), "bad_signature")
        keyed = st.tuples(st.sampled_from(COMMANDS), st.binary(min_size=1, max_size=64))
        for name, key in draw(keyed, 100):
            if key != self.key:
                self.add(
                    "hypothesis wrong key", name, self.signed(self.body(name), key), "bad_signature"
                )
        wrong_ts = st.one_of(
            st.floats(), st.text(max_size=20), st.booleans(), st.lists(st.integers(), max_size=2)
        )
        for i, ts in enumerate(draw(wrong_ts, 60)):
            name = self.cycle(i)
            self.add("hypothesis ts type", name, self.signed(self.body(name, ts=ts)), "malformed")
        offsets = st.integers(min_value=WINDOW + 30, max_value=2**52)  # seconds off the clock
        for i, (sign, offset) in enumerate(draw(st.tuples(st.sampled_from([-1, 1]), offsets), 60)):
            name = self.cycle(i)
            ts = self.now + sign * offset
            self.add("hypothesis stale", name, self.signed(self.body(name, ts=ts)), "stale")
        devices = st.text(max_size=30).filter(lambda d: d != DEVICE)
        for i, device in enumerate(draw(devices, 40)):
            name = self.cycle(i)
            self.add(
                "hypothesis device",
                name,
                self.signed(self.body(name, device_id=device)),
                "wrong_device",
            )
        nonces = st.text(max_size=80).filter(lambda t: not re.match(r"^[A-Za-z0-9_-]{16,64}$", t))
        for i, nonce in enumerate(draw(nonces, 40)):
            name = self.cycle(i)
            self.add(
                "hypothesis nonce", name, self.signed(self.body(name, nonce=nonce)), "malformed"
            )
        seconds = st.one_of(
            st.floats().filter(lambda s: not 0.5 <= s <= 10.0),
            st.integers().filter(lambda s: not 1 <= s <= 10),  # any size: 10**400 too
        )
        for s in draw(seconds, 60):
            self.add(
                "hypothesis seconds",
                "unlock",
                self.signed(self.body("unlock", args={"seconds": s})),
                "bad_args",
            )


def test_a_thousand_bad_commands_move_nothing_crash_nothing_and_are_each_answered(
    tmp_path, secure_broker, pipeline, factory
):
    setup = door_setup(tmp_path, secure_broker, pipeline, command_window_s=float(WINDOW))
    key = setup.key
    assert key is not None
    admin = Client(secure_broker, "admin", [RESULT, f"{PREFIX}/event/#", f"{PREFIX}/door/state"])
    door = Door(setup.settings, factory, pipeline).start(admin)
    try:
        now = int(time.time())
        cases = Cases(key, hashlib.sha256(key).digest(), now)
        cases.unknown_names()
        cases.not_for_the_door()
        cases.garbage()
        cases.huge()
        cases.unsigned()
        cases.bad_signatures()
        cases.signed_but_wrong()
        cases.drawn_by_hypothesis()
        # The one valid command, then its replays; interleaved with the rest by position.
        nonce = cases.nonce()
        valid = sign_command(key, DEVICE, "reload", {"what": "roster"}, ts=now, nonce=nonce)
        half = len(cases.items) // 2
        before, after = cases.items[:half], cases.items[half:]
        cases.items = []
        cases.replays(valid, nonce)
        plan = [*before, Case("the valid reload", "reload", valid, "ok"), *cases.items, *after]
        bad = [c for c in plan if c.reason not in (None, "ok")]
        assert len(bad) >= 1000, len(bad)

        started = time.monotonic()
        infos = [admin.publish(c.where, c.payload, retain=c.retain) for c in plan]
        for info in infos:
            info.wait_for_publish(60)
        published = time.monotonic()
        answered = [c for c in plan if c.reason is not None]
        deadline = time.monotonic() + 60
        while len(answers(admin)) < len(answered) and time.monotonic() < deadline:
            assert door.alive()
            time.sleep(0.05)
        done = time.monotonic()
        got = answers(admin)
        print(
            f"\n{len(bad)} bad commands + 1 valid ({len(plan)} messages, "
            f"{sum(len(c.payload) for c in plan) / 2**20:.1f} MiB): published in "
            f"{published - started:.2f} s, all answered after {done - started:.2f} s; "
            f"Hypothesis drew {sum(map(len, cases.drawn))} values, digest "
            f"{hashlib.sha256(repr(cases.drawn).encode()).hexdigest()[:16]}"
        )
        time.sleep(0.5)  # nothing more comes: exactly one answer each
        got = answers(admin)
        assert len(got) == len(answered), f"{len(got)} answers for {len(answered)} commands"
        wrong = []
        for case, answer in zip(answered, got, strict=True):
            validate_event(answer)
            expected_cmd = case.name if case.name in COMMANDS else None
            seen = (answer["accepted"], answer["reason"], answer["cmd"])
            if seen != (case.reason == "ok", case.reason, expected_cmd):
                wrong.append(f"{case.label}: {seen} ({answer['detail']})")
        assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong[:20])
        assert door.alive()
        assert on_periods(factory, RELAY) == []

        # A minute later (the rate limit's window, made to pass), the next refusal's alarm
        # carries the count of those that were not raised one by one.
        door.service.desk._limits["command_rejected"]._times.clear()
        admin.publish(f"{PREFIX}/cmd/unlock", b"one more").wait_for_publish(10)
        deadline = time.monotonic() + 10
        while len(answers(admin)) <= len(answered) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert answers(admin)[-1]["reason"] == "malformed"
        # Every alarm reached the broker too (10 in the first minute, the flush, the reload's).
        alarm_topic = f"{PREFIX}/event/alarm"
        deadline = time.monotonic() + 10
        while len(admin.on(alarm_topic)) < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
        alarms = [m.json() for m in admin.on(alarm_topic)]
        for alarm in alarms:
            validate_event(alarm)
        assert sorted(a["kind"] for a in alarms) == ["command_rejected"] * 11 + ["remote_command"]
        assert door.alive()
        assert door.service.mqtt is not None and door.service.mqtt.link.connected
        assert door.service.frames > 0  # the main loop kept taking frames throughout
    finally:
        exit_code = door.stop()
        admin.close()
    assert exit_code == 0
    assert on_periods(factory, RELAY) == []
    assert not factory.pin(RELAY).state

    events = read_journal(setup.settings.journal_path()).events
    rejected = [e for e in events if e.get("kind") == "command_rejected"]
    accepted = [e for e in events if e.get("kind") == "remote_command"]
    assert [e["detail"]["cmd"] for e in accepted] == ["reload"]
    refusals = len(bad) + 1
    suppressed = [e["detail"].get("suppressed", 0) for e in rejected]
    assert len(rejected) + sum(suppressed) == refusals, (len(rejected), sum(suppressed))
    assert rejected[-1]["detail"]["suppressed"] == refusals - len(rejected) > 900
    assert {e["kind"] for e in events} == {"command_rejected", "remote_command"}  # no stall
    for event in events:
        validate_event(event)
    print(f"{len(rejected)} command_rejected alarms, {sum(suppressed)} counted in suppressed")


def answers(client: Client) -> list[dict]:
    return [m.json() for m in client.on(RESULT) if m.payload != FORGED_RESULT]
