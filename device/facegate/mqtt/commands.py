"""Signed remote commands: pure parsing and checking, no MQTT and no side effects.

A command is authorised twice: the broker's ACL decides who may publish on ``cmd/...``, and
the payload carries an HMAC-SHA256 over its exact body bytes with the door's own key. The
body names the command and the door, a timestamp within ``window_s`` of the door's clock and
a nonce the door has never accepted. The signature is checked first, so unsigned noise never
touches the nonce store.

Payload (device/facegate/schemas/command.schema.json)::

    {"body": "{\"cmd\":\"unlock\",\"device_id\":\"door-1\",\"ts\":1763780000,
               \"nonce\":\"3f9a...\",\"args\":{}}",
     "sig": "<hex HMAC-SHA256(key, body as UTF-8)>"}

Signing the body *string* rather than a re-serialised object means any language can sign
and verify without agreeing on a canonical JSON.

Body version 2 (``"v": 2``) adds ``operator``, the name of the person who asked, so the door's
``remote_command`` audit event says who did it. A body without ``v`` is version 1 (no
operator); the door still accepts it for one release.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from facegate.mqtt.command_args import args_problem
from facegate.mqtt.topics import COMMANDS

MAX_PAYLOAD = 4096
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# An operator's name: printable, no control characters, at most 64 characters.
OPERATOR = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")
BODY_VERSIONS = (1, 2)


@dataclass(frozen=True)
class Command:
    name: str
    nonce: str
    ts: int
    args: dict = field(default_factory=dict)
    operator: str | None = None  # body version 2; None for a version 1 body


@dataclass(frozen=True)
class Rejection:
    reason: str  # malformed, unsigned, bad_signature, stale, replayed, wrong_device, ...
    detail: str
    name: str | None = None
    nonce: str | None = None


def _peek_nonce(body: str) -> str | None:
    """The nonce of a body not yet verified, so an operator with a wrong key gets an answer."""
    try:
        nonce = json.loads(body).get("nonce")
    except (ValueError, RecursionError, AttributeError):
        return None
    return nonce if isinstance(nonce, str) and _NONCE.fullmatch(nonce) else None


def sign_command(
    key: bytes,
    device_id: str,
    name: str,
    args: dict | None = None,
    *,
    ts: int,
    nonce: str | None = None,
    operator: str | None = None,
) -> bytes:
    """The MQTT payload of a signed command (for the CLI, the dashboard, the tests).

    With ``operator`` the body is version 2 and names who asked; without it, version 1.
    """
    fields: dict = {"v": 2, "operator": operator} if operator is not None else {}
    body = json.dumps(
        {
            **fields,
            "cmd": name,
            "device_id": device_id,
            "ts": int(ts),
            "nonce": nonce or secrets.token_hex(16),
            "args": args or {},
        },
        separators=(",", ":"),
    )
    sig = hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()
    return json.dumps({"body": body, "sig": sig}).encode("utf-8")


class CommandVerifier:
    """Turns a ``cmd/<name>`` payload into a :class:`Command` or a :class:`Rejection`.

    ``remember_nonce(nonce, ts)`` records a nonce and says whether it was new; it is called
    only for a command whose signature and timestamp are good.
    """

    def __init__(
        self,
        key: bytes | None,
        device_id: str,
        window_s: float,
        remember_nonce: Callable[[str, int], bool],
        max_unlock_s: float = 10.0,
    ) -> None:
        self._key = key
        self._device = device_id
        self._window = window_s
        self._remember = remember_nonce
        self._max_unlock = max_unlock_s

    def check(self, name: str, payload: bytes, now: float) -> Command | Rejection:
        if name not in COMMANDS:
            return Rejection("unknown_command", f"no command {name[:40]!r}")
        if len(payload) > MAX_PAYLOAD:
            return Rejection("malformed", f"payload over {MAX_PAYLOAD} bytes", name)
        try:
            outer = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # "[[[[..." nests too deep
            return Rejection("malformed", "payload is not UTF-8 JSON", name)
        if not isinstance(outer, dict) or not isinstance(outer.get("body"), str):
            return Rejection("malformed", "payload needs a string 'body'", name)
        sig = outer.get("sig")
        seen = _peek_nonce(outer["body"])  # unverified: only to address the answer
        if sig is None:
            return Rejection("unsigned", "payload has no 'sig'", name, seen)
        if self._key is None:
            return Rejection(
                "unsigned", "this door has no command key: commands are off", name, seen
            )
        if not isinstance(sig, str) or not _HEX64.fullmatch(sig):
            return Rejection("bad_signature", "'sig' is not 64 lowercase hex digits", name, seen)
        body_bytes = outer["body"].encode("utf-8", "surrogatepass")  # "\ud800" must not raise
        expected = hmac.new(self._key, body_bytes, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, sig):
            return Rejection("bad_signature", "signature does not match", name, seen)
        return self._check_body(name, outer["body"], now)

    def _check_body(self, name: str, text: str, now: float) -> Command | Rejection:
        try:
            body = json.loads(text)
        except (ValueError, RecursionError):
            return Rejection("malformed", "body is not JSON", name)
        if not isinstance(body, dict):
            return Rejection("malformed", "body is not an object", name)
        nonce = body.get("nonce")
        if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
            return Rejection("malformed", "nonce must be 16-64 of [A-Za-z0-9_-]", name)
        if body.get("cmd") != name:
            return Rejection("malformed", "body's cmd differs from the topic", name, nonce)
        if body.get("device_id") != self._device:
            return Rejection("wrong_device", "signed for another door", name, nonce)
        ts = body.get("ts")
        if not isinstance(ts, int) or isinstance(ts, bool) or abs(ts) > 2**53:
            return Rejection("malformed", "ts must be an integer (Unix seconds)", name, nonce)
        if abs(now - ts) > self._window:
            return Rejection("stale", f"ts is {now - ts:+.0f} s from the door's clock", name, nonce)
        args = body.get("args", {})
        if not isinstance(args, dict):
            return Rejection("bad_args", "args must be an object", name, nonce)
        problem = args_problem(name, args, self._max_unlock)
        if problem:
            return Rejection("bad_args", problem, name, nonce)
        version = body.get("v", 1)
        if version not in BODY_VERSIONS or isinstance(version, bool):
            return Rejection(
                "malformed", f"body version must be one of {BODY_VERSIONS}", name, nonce
            )
        operator = body.get("operator")
        if version == 2 and (not isinstance(operator, str) or not OPERATOR.fullmatch(operator)):
            return Rejection(
                "malformed", "a version 2 body needs an operator (1-64 characters)", name, nonce
            )
        if version == 1 and operator is not None:
            return Rejection("malformed", "operator needs body version 2", name, nonce)
        if not self._remember(nonce, ts):
            return Rejection("replayed", "nonce already used", name, nonce)
        return Command(name, nonce, ts, args, operator)


def _reply_key(key: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"facegate command reply"
    ).derive(key)


def seal_reply(key: bytes, command_nonce: str, secret: str) -> str:
    """Encrypt a secret the door answers with (an override code) for the key's holder only.

    Proctors may read ``cmd/result``; only someone holding the door's command key can open
    this. The command's nonce is bound in, so a reply cannot be passed off as another's.
    """
    iv = os.urandom(12)
    sealed = AESGCM(_reply_key(key)).encrypt(iv, secret.encode(), command_nonce.encode())
    return base64.urlsafe_b64encode(iv + sealed).decode()


def open_reply(key: bytes, command_nonce: str, token: str) -> str:
    raw = base64.urlsafe_b64decode(token.encode())
    return AESGCM(_reply_key(key)).decrypt(raw[:12], raw[12:], command_nonce.encode()).decode()
