"""One door's MQTT side: outbox, connection, retained state, health, command checking.

The daemon owns what commands *do* (the relay, the flow, the gallery); this owns everything
that only talks to the broker, so the daemon's loop sees plain calls.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from facegate.common.key_files import read_key_file
from facegate.config.mqtt import MqttConfig
from facegate.errors import ConfigError
from facegate.events.access_event import SCHEMA_VERSION
from facegate.events.outbox import Outbox
from facegate.mqtt.command_store import CommandStore
from facegate.mqtt.commands import Command, CommandVerifier, Rejection
from facegate.mqtt.ha_discovery import discovery_messages
from facegate.mqtt.mqtt_link import MqttLink
from facegate.mqtt.topics import Topics

log = logging.getLogger("facegate.mqtt")


def command_key(config: MqttConfig) -> bytes | None:
    if config.command_key_file is None:
        return None
    try:
        return read_key_file(config.command_key_file)
    except Exception as exc:
        raise ConfigError(f"mqtt.command_key_file: {exc}") from None


class DoorMqtt:
    def __init__(
        self,
        config: MqttConfig,
        device_id: str,
        room: str,
        data_dir: Path,
        on_command: Callable[[str, bytes], None],
    ) -> None:
        self.c = config
        self.device_id = device_id
        self.room = room
        self.topics = Topics(config.prefix(device_id))
        self.key = command_key(config)
        self.outbox = Outbox(
            config.outbox_file or data_dir / "outbox.sqlite3",
            int(config.outbox_max_mb * 1024 * 1024),
        )
        self.store = CommandStore(data_dir / "commands.sqlite3", config.command_window_s)
        self.verifier = CommandVerifier(
            self.key,
            device_id,
            config.command_window_s,
            self.store.remember_nonce,
            config.max_remote_unlock_s,
        )
        self._door_state = "LOCKED"
        self._last_decision: bytes | None = None
        self.link = MqttLink(
            config, device_id, self.outbox, on_command=on_command, on_connected=self._announce
        )
        if self.key is None:
            log.warning("mqtt.command_key_file is not set: every remote command is refused")

    def start(self) -> None:
        self.link.start()

    def close(self) -> None:
        try:
            self.link.close()
        finally:
            self.outbox.close()
            self.store.close()

    # -- state ---------------------------------------------------------------------------------

    def _announce(self) -> None:
        """On every (re)connect: retained state and discovery, for subscribers that missed it."""
        self.link.publish_retained(self.topics.door_state, self._door_state)
        if self._last_decision is not None:
            self.link.publish_retained(self.topics.last_decision, self._last_decision)
        if self.c.ha_discovery:
            for topic, payload in discovery_messages(
                self.topics, self.device_id, self.room, self.c.discovery_prefix
            ):
                self.link.publish_retained(topic, payload)

    def door_state(self, status: str) -> None:
        self._door_state = status.upper()
        self.link.publish_retained(self.topics.door_state, self._door_state)

    def last_decision(self, event: dict) -> None:
        keep = ("event_id", "ts", "decision", "reasons", "student_id", "session_id")
        self._last_decision = json.dumps({k: event.get(k) for k in keep}).encode()
        self.link.publish_retained(self.topics.last_decision, self._last_decision)

    def health(self, message: dict) -> None:
        self.link.publish_now(self.topics.health, json.dumps(message).encode(), qos=0)

    # -- commands --------------------------------------------------------------------------------

    def check(self, name: str, payload: bytes, now: float) -> Command | Rejection:
        return self.verifier.check(name, payload, now)

    def answer(
        self,
        name: str | None,
        nonce: str | None,
        accepted: bool,
        reason: str,
        detail: str = "",
        result: dict | None = None,
    ) -> None:
        message = {
            "type": "command_result",
            "schema_version": SCHEMA_VERSION,
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "device_id": self.device_id,
            "cmd": name,
            "nonce": nonce,
            "accepted": accepted,
            "reason": reason,
            "detail": detail,
        }
        if result is not None:
            message["result"] = result
        self.link.publish_now(self.topics.command_result, json.dumps(message).encode(), qos=1)
