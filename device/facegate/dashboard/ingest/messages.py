"""What arrives on ``facegate/#``, sorted into plain records (pure: no I/O, no clock).

Every message is either understood (an event, a door's status, state, health, last decision,
a command's answer) or becomes a :class:`BadMessage` with the problem named. Nothing here
raises on input: a broken door must not stop the dashboard from hearing the others.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_PAYLOAD = 64 * 1024
DEVICE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DOOR_STATES = ("LOCKED", "UNLOCKED", "OPEN")
COMMAND_TOPICS = ("unlock", "lockdown", "reload", "override")

# "schema name" -> validate(message) -> error text or None
Validator = Callable[[str, dict], str | None]


@dataclass(frozen=True)
class Incoming:
    topic: str
    payload: bytes
    retain: bool
    at: float  # wall clock when it arrived


@dataclass(frozen=True)
class EventRecord:
    device_id: str
    event: dict
    payload: str


@dataclass(frozen=True)
class DoorField:
    """One retained or periodic fact about a door: status, state, health, last_decision."""

    device_id: str
    field: str
    value: str
    parsed: dict | None = None


@dataclass(frozen=True)
class CommandAnswer:
    device_id: str
    answer: dict


@dataclass(frozen=True)
class BadMessage:
    topic: str
    device_id: str | None
    problem: str  # json | schema | huge | unknown_door | topic
    error: str
    excerpt: str


@dataclass(frozen=True)
class Ignored:
    """A message we have no use for beyond 'last message per topic' (commands, discovery)."""

    topic: str


Parsed = EventRecord | DoorField | CommandAnswer | BadMessage | Ignored


def _excerpt(payload: bytes) -> str:
    return payload[:120].decode("utf-8", "replace")


def parse(
    message: Incoming,
    root: str,
    validate: Validator,
    known_doors: frozenset[str] = frozenset(),
) -> Parsed:
    """Sort one message; ``known_doors`` empty means every well-formed door id is welcome."""
    parts = message.topic.split("/")
    if len(parts) < 3 or parts[0] != root:
        return BadMessage(message.topic, None, "topic", "not <root>/<door>/<what>", "")
    device, rest = parts[1], "/".join(parts[2:])
    if not DEVICE_ID.fullmatch(device):
        return BadMessage(message.topic, None, "topic", "the door id is not valid", "")
    if known_doors and device not in known_doors:
        return BadMessage(
            message.topic, device, "unknown_door", "not a known door", _excerpt(message.payload)
        )
    if len(message.payload) > MAX_PAYLOAD:
        size = len(message.payload)
        return BadMessage(message.topic, device, "huge", f"{size} bytes", _excerpt(message.payload))
    if rest.startswith("cmd/") and rest[4:] in COMMAND_TOPICS:
        return Ignored(message.topic)  # a command on its way to the door (maybe ours)
    if rest == "status":
        return _plain(message, device, "status", ("online", "offline"))
    if rest == "door/state":
        return _plain(message, device, "state", DOOR_STATES)
    if rest not in ("event/access", "event/alarm", "health", "last_decision", "cmd/result"):
        return BadMessage(message.topic, device, "topic", "unknown topic", "")
    try:
        data = json.loads(message.payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return BadMessage(message.topic, device, "json", str(exc)[:200], _excerpt(message.payload))
    if not isinstance(data, dict):
        return BadMessage(message.topic, device, "json", "not an object", _excerpt(message.payload))
    if rest == "last_decision":
        return DoorField(device, "last_decision", message.payload.decode(), data)
    schema = {
        "event/access": "access_event",
        "event/alarm": "alarm_event",
        "health": "health",
        "cmd/result": "command_result",
    }[rest]
    error = validate(schema, data)
    if error is not None:
        return BadMessage(message.topic, device, "schema", error[:500], _excerpt(message.payload))
    if data.get("device_id") != device:
        return BadMessage(
            message.topic,
            device,
            "unknown_door",
            f"device_id {str(data.get('device_id'))[:64]!r} differs from the topic's door",
            _excerpt(message.payload),
        )
    if rest == "health":
        return DoorField(device, "health", message.payload.decode(), data)
    if rest == "cmd/result":
        return CommandAnswer(device, data)
    return EventRecord(device, data, message.payload.decode())


def _plain(message: Incoming, device: str, field: str, allowed: tuple[str, ...]) -> Parsed:
    value = message.payload.decode("utf-8", "replace")
    if value not in allowed:
        return BadMessage(
            message.topic, device, "schema", f"{field} must be one of {allowed}", value[:120]
        )
    return DoorField(device, field, value)
