"""Home Assistant MQTT discovery: retained config messages that make a door appear in HA.

As HA reads discovery today: each entity names its ``default_entity_id`` (``domain.slug``;
HA removed ``object_id`` in 2026.4), the messages carry an ``origin`` block and the device its
``sw_version``; access decisions are an HA ``event`` entity (``granted``/``denied``, with the
reason and student as attributes), so automations can trigger on them.

The lock is exposed **read-only**, as a ``binary_sensor`` of device class ``lock``. HA's MQTT
``lock`` entity needs a command topic that takes a bare payload, and HA's templates cannot
compute an HMAC; a bridge that signed HA's bare "UNLOCK" would hand the door to anyone allowed
to publish on the bridge's topic, so the broker ACL would be the only check left. Doors are
unlocked remotely with ``facegate command unlock`` (signed) instead (docs/mqtt.md).
"""

from __future__ import annotations

import json

from facegate import __version__
from facegate.mqtt.topics import Topics

ORIGIN = {
    "name": "facegate",
    "sw_version": __version__,
    "support_url": "https://github.com/facegate/facegate",
}


def discovery_messages(
    topics: Topics, device_id: str, room: str, discovery_prefix: str = "homeassistant"
) -> list[tuple[str, bytes]]:
    """(topic, retained payload) for every entity of this door."""
    node = f"facegate_{device_id.replace('.', '_')}"
    device = {
        "identifiers": [node],
        "name": f"facegate {device_id}" + (f" ({room})" if room else ""),
        "manufacturer": "facegate",
        "model": "exam-room door",
        "sw_version": __version__,
    }
    common = {
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": device,
        "origin": ORIGIN,
    }
    entities: list[tuple[str, str, dict]] = [
        (
            "binary_sensor",
            "lock",
            {
                "name": "Door lock",
                "device_class": "lock",  # on = unlocked, in HA's terms
                "state_topic": topics.door_state,
                "value_template": "{{ 'OFF' if value == 'LOCKED' else 'ON' }}",
            },
        ),
        (
            "binary_sensor",
            "door",
            {
                "name": "Door",
                "device_class": "door",
                "state_topic": topics.door_state,
                "value_template": "{{ 'ON' if value == 'OPEN' else 'OFF' }}",
            },
        ),
        (
            "binary_sensor",
            "online",
            {
                "name": "Online",
                "device_class": "connectivity",
                "state_topic": topics.status,
                "payload_on": "online",
                "payload_off": "offline",
            },
        ),
        (
            "sensor",
            "last_decision",
            {
                "name": "Last decision",
                "state_topic": topics.last_decision,
                "value_template": "{{ value_json.decision }}",
                "json_attributes_topic": topics.last_decision,
                "json_attributes_template": (
                    "{{ {'reasons': value_json.reasons, 'student_id': value_json.student_id, "
                    "'ts': value_json.ts} | tojson }}"
                ),
                "icon": "mdi:account-check",
            },
        ),
        (
            "event",
            "access",
            {
                "name": "Access",
                "state_topic": topics.access,
                "event_types": ["granted", "denied"],
                "value_template": (
                    "{{ {'event_type': value_json.decision, 'reason': value_json.reasons[0], "
                    "'student_id': value_json.student_id, 'session_id': value_json.session_id} "
                    "| tojson }}"
                ),
                "icon": "mdi:door",
            },
        ),
        (
            "sensor",
            "outbox_depth",
            {
                "name": "Outbox depth",
                "state_topic": topics.health,
                "value_template": "{{ value_json.outbox_depth }}",
                "state_class": "measurement",
                "unit_of_measurement": "events",
                "entity_category": "diagnostic",
            },
        ),
    ]
    out = []
    for component, key, config in entities:
        payload = {
            **config,
            **common,
            "unique_id": f"{node}_{key}",
            "default_entity_id": f"{component}.{node}_{key}",
        }
        topic = f"{discovery_prefix}/{component}/{node}/{key}/config"
        out.append((topic, json.dumps(payload, sort_keys=True).encode("utf-8")))
    return out
