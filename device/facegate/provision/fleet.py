"""The fleet file (TOML): the doors of a building, their network and the shared broker.

Validated whole before anything is written; an error names the door (by id) and the key,
like the door's own config errors. Each door's merged config is validated with the door's
own :class:`~facegate.config.Settings`, so a per-door override cannot be wrong on the card.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from facegate.config import read_toml
from facegate.provision.errors import ProvisionError

HOSTNAME = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
SSH_KEY = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-\S+) [A-Za-z0-9+/=]+")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Network(Strict):
    """Ethernet or Wi-Fi, DHCP unless ``address`` is given (then ``gateway`` too)."""

    kind: Literal["ethernet", "wifi"] = "ethernet"
    address: IPv4Interface | None = None
    gateway: IPv4Address | None = None
    dns: list[IPv4Address] = Field(default_factory=list)
    ssid: str | None = Field(default=None, min_length=1, max_length=32)
    # The Wi-Fi passphrase, in a file (relative to the fleet file): it is a secret.
    psk_file: Path | None = None
    country: str = Field(default="GB", pattern=r"^[A-Z]{2}$")

    @model_validator(mode="after")
    def _consistent(self) -> Network:
        if self.kind == "wifi" and (self.ssid is None or self.psk_file is None):
            raise ValueError("a wifi network needs ssid and psk_file")
        if self.kind == "ethernet" and (self.ssid or self.psk_file):
            raise ValueError("ssid and psk_file are for kind = 'wifi'")
        if (self.address is None) != (self.gateway is None):
            raise ValueError("a static address needs a gateway (or neither, for DHCP)")
        return self


class Broker(Strict):
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=8883, ge=1, le=65535)
    # The CA that signed the broker's certificate (relative to the fleet file); None: plain TCP.
    ca_file: Path | None = None


class FleetWide(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    # "per-door": each door its own gallery key; "fleet": one key shared by every door.
    gallery_key: Literal["per-door", "fleet"] = "per-door"
    admin_user: str = Field(default="admin", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    ssh_keys: list[str] = Field(min_length=1)
    time_servers: list[str] = Field(default_factory=list)
    broker: Broker
    network: Network = Field(default_factory=Network)

    @model_validator(mode="after")
    def _keys(self) -> FleetWide:
        for i, key in enumerate(self.ssh_keys):
            if not SSH_KEY.match(key) or "\n" in key:
                raise ValueError(f"ssh_keys[{i}] is not an OpenSSH public key line")
        return self


class Door(Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    room: str = Field(default="", max_length=128)
    hostname: str = Field(pattern=HOSTNAME)
    # Replaces keys of the fleet's [fleet.network] for this door.
    network: dict = Field(default_factory=dict)
    # Any key of the door config (docs/configuration.md), over the fleet's [defaults].
    config: dict = Field(default_factory=dict)


class Fleet(Strict):
    fleet: FleetWide
    defaults: dict = Field(default_factory=dict)
    doors: list[Door] = Field(min_length=1)
    # Where relative paths in the file are resolved (the fleet file's folder).
    base_dir: Path = Path(".")

    @model_validator(mode="after")
    def _unique(self) -> Fleet:
        for what in ("id", "hostname"):
            seen: set[str] = set()
            for door in self.doors:
                value = getattr(door, what)
                if value in seen:
                    raise ValueError(f"door {door.id}: {what} {value!r} is used by another door")
                seen.add(value)
        return self

    def door(self, door_id: str) -> Door:
        for door in self.doors:
            if door.id == door_id:
                return door
        raise ProvisionError(f"no door {door_id!r} in the fleet {self.fleet.name}")

    def network_of(self, door: Door) -> Network:
        merged = {**self.fleet.network.model_dump(exclude_unset=True), **door.network}
        try:
            return Network.model_validate(merged)
        except ValidationError as exc:
            raise ProvisionError(_describe(exc, f"door {door.id}: network")) from None

    def path(self, relative: Path) -> Path:
        return relative if relative.is_absolute() else self.base_dir / relative


def _where(loc: tuple, raw: dict) -> str:
    """``doors.1.hostname`` as ``door door-2: hostname`` (the id, not the index)."""
    if len(loc) >= 2 and loc[0] == "doors" and isinstance(loc[1], int):
        doors = raw.get("doors") or []
        entry = doors[loc[1]] if loc[1] < len(doors) and isinstance(doors[loc[1]], dict) else {}
        name = entry.get("id", f"#{loc[1] + 1}")
        rest = ".".join(str(p) for p in loc[2:]) or "(whole door)"
        return f"door {name}: {rest}"
    return ".".join(str(p) for p in loc) or "(top level)"


def _describe(error: ValidationError, source: str, raw: dict | None = None) -> str:
    lines = [f"invalid {source}:"]
    for item in error.errors():
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see docs/provisioning.md)"
        lines.append(f"  {_where(tuple(item['loc']), raw or {})}: {msg}")
    return "\n".join(lines)


def load_fleet(path: Path) -> Fleet:
    """Read and validate a fleet file; every relative path in it is checked to exist."""
    raw = read_toml(path, "fleet file")
    try:
        fleet = Fleet.model_validate({**raw, "base_dir": path.resolve().parent})
    except ValidationError as exc:
        raise ProvisionError(_describe(exc, f"fleet file {path}", raw)) from None
    problems = []
    ca = fleet.fleet.broker.ca_file
    if ca is not None and not fleet.path(ca).is_file():
        problems.append(f"  fleet.broker.ca_file: {fleet.path(ca)} does not exist")
    for door in fleet.doors:
        try:
            network = fleet.network_of(door)
        except ProvisionError as exc:
            problems.append(f"  {str(exc).removeprefix('invalid ')}")
            continue
        if network.psk_file is not None and not fleet.path(network.psk_file).is_file():
            problems.append(f"  door {door.id}: network.psk_file {network.psk_file} does not exist")
    if problems:
        raise ProvisionError("\n".join([f"invalid fleet file {path}:", *problems]))
    return fleet
