"""Reading the configuration: found where systemd and admins put it, validated whole.

A file that names an unknown key or a bad value is refused with the key's dotted path and the
reason, before anything starts (``facegate`` then exits with 78, EX_CONFIG).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import ValidationError

from facegate.config.settings import Settings
from facegate.errors import ConfigError

SYSTEM_CONFIG = Path("/etc/facegate/facegate.toml")
CONFIG_NAME = "facegate.toml"


def find_config_file() -> Path | None:
    """``$FACEGATE_CONFIG``, else ``$CONFIGURATION_DIRECTORY/facegate.toml`` (systemd's
    ConfigurationDirectory=), else ``/etc/facegate/facegate.toml``; None when none exists."""
    explicit = os.environ.get("FACEGATE_CONFIG")
    if explicit:
        return Path(explicit)
    directories = os.environ.get("CONFIGURATION_DIRECTORY")
    candidates = [Path(d) / CONFIG_NAME for d in directories.split(":")] if directories else []
    candidates.append(SYSTEM_CONFIG)
    return next((c for c in candidates if c.is_file()), None)


def describe(error: ValidationError, source: str) -> str:
    lines = [f"invalid configuration in {source}:"]
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        msg = item["msg"]
        if item["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see docs/configuration.md)"
        lines.append(f"  {key}: {msg}")
    return "\n".join(lines)


def settings_from_dict(data: dict, source: str = "<dict>") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, source)) from None


def read_toml(path: Path, what: str = "config file") -> dict:
    """A TOML file as a dict, or a ConfigError saying what is wrong with it."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None


def load_settings(path: Path | None) -> Settings:
    """Read and validate a TOML file; ``None`` gives the defaults."""
    if path is None:
        # The defaults can still be refused by the environment (a systemd credential).
        return settings_from_dict({}, "the defaults (no config file)")
    return settings_from_dict(read_toml(path), str(path))
