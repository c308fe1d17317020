"""Each door's ``facegate.toml``: the fleet's defaults, the door's overrides, then what the
fleet file fixes (id, room, broker, roster), validated as the door will read it.

File paths differ between the admin's machine and the card: the config is validated with
the host's copies (the door's own validators check that the roster and CA exist) and
written with the card's paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facegate.config import settings_from_dict
from facegate.errors import ConfigError
from facegate.provision.errors import ProvisionError
from facegate.provision.fleet import Door, Fleet
from facegate.provision.toml_text import dumps

ETC = Path("/etc/facegate")
CARD_ROSTER = ETC / "roster.toml"
CARD_CA = ETC / "broker-ca.crt"


@dataclass(frozen=True)
class DoorFiles:
    """Where the roster and the broker's CA are, on the host or on the card."""

    roster: Path | None
    ca: Path | None


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _fixed(fleet: Fleet, door: Door, files: DoorFiles) -> dict:
    broker = fleet.fleet.broker
    mqtt: dict = {"enabled": True, "host": broker.host, "port": broker.port, "username": door.id}
    if files.ca is not None:
        mqtt["tls"] = {"ca_file": str(files.ca)}
    fixed: dict = {"device": {"id": door.id, "room": door.room}, "mqtt": mqtt}
    if files.roster is not None:
        fixed["access"] = {"roster_file": str(files.roster)}
    return fixed


def _clashes(fixed: dict, over: dict, prefix: str = "") -> list[str]:
    found = []
    for key, value in over.items():
        if key not in fixed:
            continue
        if isinstance(value, dict) and isinstance(fixed[key], dict):
            found += _clashes(fixed[key], value, f"{prefix}{key}.")
        else:
            found.append(f"{prefix}{key}")
    return found


def door_config(fleet: Fleet, door: Door, files: DoorFiles) -> dict:
    """The merged config of one door; refuses overrides of what the fleet file fixes."""
    fixed = _fixed(fleet, door, files)
    for source, over in (("defaults", fleet.defaults), (f"door {door.id}: config", door.config)):
        clash = _clashes(fixed, over)
        if clash:
            raise ProvisionError(
                f"{source}: {', '.join(clash)} is set by the fleet file itself "
                "(door id, room, [fleet.broker], the roster): remove it"
            )
    return _merge(_merge(fleet.defaults, door.config), fixed)


def check_door_config(fleet: Fleet, door: Door, host_files: DoorFiles) -> None:
    """Validate as the door would, with the host's copies of the files it names."""
    try:
        settings_from_dict(door_config(fleet, door, host_files), f"door {door.id}")
    except ConfigError as exc:
        message = str(exc).replace("invalid configuration in ", "invalid config of ")
        raise ProvisionError(message) from None


def card_config_text(fleet: Fleet, door: Door, has_roster: bool) -> str:
    """The ``/etc/facegate/facegate.toml`` written on the card."""
    ca = CARD_CA if fleet.fleet.broker.ca_file is not None else None
    files = DoorFiles(CARD_ROSTER if has_roster else None, ca)
    return f"# written by facegate provision for door {door.id}\n" + dumps(
        door_config(fleet, door, files)
    )
