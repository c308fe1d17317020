"""The dashboard's own settings: one TOML file, validated at start, errors name the key.

Secrets are never in the file: the broker password and each door's command key are files,
by default found in ``$CREDENTIALS_DIRECTORY`` (systemd ``LoadCredential=``).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from facegate.errors import ConfigError

CREDENTIALS_ENV = "CREDENTIALS_DIRECTORY"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # "auto": Secure cookies when the request came over https (a reverse proxy with TLS).
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    # Honour X-Forwarded-For/-Proto from these addresses only (a local reverse proxy).
    trusted_proxies: tuple[str, ...] = ()


class DatabaseSettings(_Section):
    # sqlite+aiosqlite:///PATH (default under the state directory) or
    # postgresql+asyncpg://user@host/db (the password from password_file).
    url: str | None = None
    password_file: Path | None = None
    # Events older than this many days are deleted (0 keeps them for ever).
    retention_days: int = Field(default=400, ge=0, le=36500)
    # Health samples (outbox depth plot) and diagnostics are kept this many days.
    diagnostics_days: int = Field(default=14, ge=1, le=3650)

    @field_validator("url")
    @classmethod
    def _driver(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        return v


class BrokerTls(_Section):
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


class BrokerSettings(_Section):
    host: str = "localhost"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    # A file with the password; default: $CREDENTIALS_DIRECTORY/mqtt-password when present.
    password_file: Path | None = None
    tls: BrokerTls | None = None
    # Fixed, so the broker keeps this dashboard's queue (persistent session) across restarts.
    client_id: str = Field(default="facegate-dashboard", min_length=1, max_length=128)
    keepalive_s: int = Field(default=30, ge=5, le=600)
    # How long the broker keeps our queue while we are away (MQTT 5 session expiry).
    session_expiry_s: int = Field(default=7 * 86400, ge=60)
    topic_root: str = Field(default="facegate", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # Commit at most this many messages per transaction (acknowledged after the commit).
    batch_max: int = Field(default=500, ge=1, le=10000)
    batch_wait_ms: float = Field(default=20.0, ge=0.0, le=1000.0)


class CommandSettings(_Section):
    # One file per door: <key_dir>/<device_id>.key (0600, the door's own command key).
    # Default: $CREDENTIALS_DIRECTORY (LoadCredential=door-1.key:/etc/...).
    key_dir: Path | None = None
    timeout_s: float = Field(default=10.0, gt=0.0, le=300.0)
    max_unlock_s: float = Field(default=10.0, ge=0.5, le=60.0)


class AuthSettings(_Section):
    session_hours: float = Field(default=12.0, gt=0.0, le=24 * 30)
    # Failed logins allowed per user name (four times as many per client address) per window.
    login_failures: int = Field(default=5, ge=1, le=1000)
    login_window_s: float = Field(default=300.0, ge=1.0)


class AlarmSettings(_Section):
    # Alarms of one kind from one door within this many seconds collapse into one row.
    flood_window_s: float = Field(default=60.0, ge=0.0, le=86400.0)
    snooze_max_min: int = Field(default=240, ge=1, le=7 * 24 * 60)


class DashboardSettings(_Section):
    # Where the SQLite database lives when database.url is unset.
    state_dir: Path | None = None
    # A door without health or status for this long shows as stale.
    offline_after_s: float = Field(default=120.0, ge=5.0)
    live_events: int = Field(default=200, ge=10, le=2000)
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    broker: BrokerSettings = BrokerSettings()
    commands: CommandSettings = CommandSettings()
    auth: AuthSettings = AuthSettings()
    alarms: AlarmSettings = AlarmSettings()

    def resolved_state_dir(self) -> Path:
        if self.state_dir is not None:
            return self.state_dir
        env = os.environ.get("STATE_DIRECTORY")
        if env:
            return Path(env.split(":")[0])
        return Path.home() / ".local" / "share" / "facegate-dashboard"

    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{self.resolved_state_dir() / 'dashboard.sqlite3'}"

    def key_dir(self) -> Path | None:
        return self.commands.key_dir or _credentials()

    def broker_password_file(self) -> Path | None:
        if self.broker.password_file is not None:
            return self.broker.password_file
        creds = _credentials()
        candidate = creds / "mqtt-password" if creds else None
        return candidate if candidate is not None and candidate.is_file() else None


def _credentials() -> Path | None:
    env = os.environ.get(CREDENTIALS_ENV)
    return Path(env) if env else None


def read_secret(path: Path, what: str) -> str:
    """The first line of a secret file, or a ConfigError naming the setting."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    if not lines or not lines[0]:
        raise ConfigError(f"{what}: {path} is empty")
    return lines[0]


def settings_from_dict(data: dict) -> DashboardSettings:
    try:
        return DashboardSettings.model_validate(data)
    except ValidationError as exc:
        lines = ["invalid dashboard settings:"]
        for item in exc.errors():
            where = ".".join(str(p) for p in item["loc"]) or "(top level)"
            message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
            lines.append(f"  {where}: {message}")
        raise ConfigError("\n".join(lines)) from None


def load_dashboard_settings(path: Path | None) -> DashboardSettings:
    if path is None:
        return DashboardSettings()
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"dashboard config {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"dashboard config {path} cannot be read: {exc}") from None
    return settings_from_dict(data)
