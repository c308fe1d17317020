"""The fleet's secrets directory: one folder per door, made when missing, never overwritten.

Layout (every file 0600, every folder 0700)::

    SECRETS/fleet/gallery.key           only with gallery_key = "fleet"
    SECRETS/doors/<id>/gallery.key      with gallery_key = "per-door"
    SECRETS/doors/<id>/command.key      HMAC key of the door's remote commands
    SECRETS/doors/<id>/mqtt.password    the door's broker password (one line)

The TOTP store has no key of its own: the door seals it with the gallery key.
"""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from facegate.common.files import write_private_file
from facegate.common.key_files import create_key_file, read_key_file
from facegate.errors import KeyFileError
from facegate.provision.errors import ProvisionError
from facegate.provision.fleet import Door, Fleet

DOOR_SECRETS = ("gallery.key", "command.key", "mqtt.password")


@dataclass(frozen=True)
class SecretFile:
    door: str  # a door id, or "(fleet)"
    name: str
    path: Path
    mode: int | None  # None: missing

    @property
    def ok(self) -> bool:
        return self.mode is not None and not self.mode & 0o077


class FleetSecrets:
    def __init__(self, directory: Path, fleet: Fleet) -> None:
        self.directory = directory
        self.fleet = fleet

    def _gallery_key(self, door: Door) -> Path:
        if self.fleet.fleet.gallery_key == "fleet":
            return self.directory / "fleet" / "gallery.key"
        return self.directory / "doors" / door.id / "gallery.key"

    def path(self, door: Door, name: str) -> Path:
        if name == "gallery.key":
            return self._gallery_key(door)
        return self.directory / "doors" / door.id / name

    def listing(self) -> list[SecretFile]:
        """Every secret the fleet needs, with its mode (never its value)."""
        out = []
        for door in self.fleet.doors:
            for name in DOOR_SECRETS:
                path = self.path(door, name)
                try:
                    mode = stat.S_IMODE(path.stat().st_mode)
                except FileNotFoundError:
                    mode = None
                owner = "(fleet)" if path.parent.name == "fleet" else door.id
                out.append(SecretFile(owner, name, path, mode))
        seen: set[Path] = set()
        return [s for s in out if not (s.path in seen or seen.add(s.path))]

    def ensure(self) -> list[SecretFile]:
        """Create the missing secrets; an existing one is kept (and checked), never rewritten."""
        self._check_folder(self.directory)
        made = []
        for item in self.listing():
            if item.mode is None:
                item.path.parent.parent.mkdir(exist_ok=True, mode=0o700)
                item.path.parent.mkdir(exist_ok=True, mode=0o700)
                if item.name == "mqtt.password":
                    password = base64.urlsafe_b64encode(os.urandom(24)).decode("ascii")
                    write_private_file(item.path, f"{password}\n".encode())
                else:
                    create_key_file(item.path)
                made.append(item)
        self.check()
        return made

    def check(self) -> None:
        """Every secret present, owner-only and well formed."""
        for item in self.listing():
            if item.mode is None:
                raise ProvisionError(f"{item.door}: secret {item.path} is missing")
            if not item.ok:
                raise ProvisionError(
                    f"{item.door}: secret {item.path} is readable by others "
                    f"(mode {item.mode:04o}); run: chmod 600 {item.path}"
                )
            if item.name.endswith(".key"):
                try:
                    read_key_file(item.path)
                except KeyFileError as exc:
                    raise ProvisionError(f"{item.door}: {exc}") from None
            elif not self.read(item.path).strip():
                raise ProvisionError(f"{item.door}: secret {item.path} is empty")

    def read(self, path: Path) -> bytes:
        return path.read_bytes()

    def password(self, door: Door) -> str:
        return self.read(self.path(door, "mqtt.password")).decode("ascii").splitlines()[0]

    @staticmethod
    def _check_folder(directory: Path) -> None:
        if directory.exists() and stat.S_IMODE(directory.stat().st_mode) & 0o077:
            raise ProvisionError(
                f"secrets directory {directory} is open to other users; run: chmod 700 {directory}"
            )
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
