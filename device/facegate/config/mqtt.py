"""The ``[mqtt]`` configuration section: broker, credentials, topics, outbox and commands.

Secrets never sit in the config file itself: the broker password and the command key are
read from files (under systemd, from ``LoadCredential``), so the config can be shown and
copied between doors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from facegate.config.base import Section, credential


class TlsConfig(Section):
    # The CA that signed the broker's certificate; None: the system's trust store.
    ca_file: Path | None = None
    # A client certificate and its key, for brokers that require one (both or neither).
    cert_file: Path | None = None
    key_file: Path | None = None

    @model_validator(mode="after")
    def _pairs(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("mqtt.tls.cert_file and mqtt.tls.key_file go together")
        for name in ("ca_file", "cert_file", "key_file"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"mqtt.tls.{name} {path} does not exist")
        return self


class MqttConfig(Section):
    # Off: events are kept in the journal only (and the outbox is not used).
    enabled: bool = False
    host: str = Field(default="localhost", min_length=1, max_length=253)
    port: int = Field(default=1883, ge=1, le=65535)
    # "auto": MQTT 5, and 3.1.1 when the broker refuses version 5.
    protocol: Literal["auto", "5", "3.1.1"] = "auto"
    # None: the device id.
    client_id: str | None = Field(default=None, max_length=128)
    username: str | None = Field(default=None, max_length=256)
    # A file holding the password (first line); never the password itself in the config.
    password_file: Path | None = None
    # Absent: plain TCP (only on a trusted network). [mqtt.tls] with no keys: TLS, system CAs.
    tls: TlsConfig | None = None
    keepalive_s: int = Field(default=30, ge=5, le=600)
    reconnect_min_s: float = Field(default=1.0, gt=0.0, le=60.0)
    reconnect_max_s: float = Field(default=60.0, gt=0.0, le=3600.0)
    # None: facegate/<device id>
    topic_prefix: str | None = Field(default=None, max_length=200)
    health_interval_s: float = Field(default=30.0, ge=1.0, le=3600.0)
    # None: <data_dir>/outbox.sqlite3
    outbox_file: Path | None = None
    # The outbox's disk bound; past 80% an alarm, when full no new attempt starts.
    outbox_max_mb: float = Field(default=64.0, ge=1.0, le=10_000.0)
    # 32 random bytes, one per door (facegate mqtt new-key). None: remote commands are refused.
    command_key_file: Path | None = None
    # A command's timestamp must be within this many seconds of the door's clock.
    command_window_s: float = Field(default=30.0, ge=2.0, le=600.0)
    # Refuse every command until the system clock has been synchronised (NTP) once since
    # boot: a Pi without a clock battery may run days off until then, and the timestamp check
    # would accept stale commands. Only a test bench without NTP turns this off.
    require_clock_sync: bool = True
    # The longest a remote unlock may hold the door (seconds).
    max_remote_unlock_s: float = Field(default=10.0, gt=0.0, le=60.0)
    # Home Assistant MQTT discovery (retained config under discovery_prefix).
    ha_discovery: bool = True
    discovery_prefix: str = Field(default="homeassistant", min_length=1, max_length=100)

    @field_validator("topic_prefix", "discovery_prefix")
    @classmethod
    def _topic(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v or v.startswith("/") or v.endswith("/") or any(c in v for c in "#+\0"):
            raise ValueError(
                f"{v!r} is not a usable topic prefix: no leading or trailing '/', no '#', "
                "'+' or NUL"
            )
        return v

    @field_validator("password_file", "command_key_file")
    @classmethod
    def _exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"{v} does not exist")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> MqttConfig:
        if self.password_path() is not None and self.username is None:
            raise ValueError("mqtt.password_file needs mqtt.username")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("mqtt.reconnect_max_s must be at least mqtt.reconnect_min_s")
        return self

    def prefix(self, device_id: str) -> str:
        return self.topic_prefix or f"facegate/{device_id}"

    def password_path(self) -> Path | None:
        """The password file: the config's, else systemd's credential ``mqtt.password``."""
        return self.password_file or credential("mqtt.password")

    def command_key_path(self) -> Path | None:
        """The door's command key: the config's, else systemd's credential ``command.key``."""
        return self.command_key_file or credential("command.key")

    def password(self) -> str | None:
        path = self.password_path()
        if path is None:
            return None
        lines = path.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
