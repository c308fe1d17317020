"""Which Raspberry Pi OS a root file system is, and so which Python its wheels must fit."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from facegate.provision.errors import ProvisionError

# Debian release -> its python3 (Raspberry Pi OS follows Debian's).
PYTHONS = {"bookworm": "3.11", "trixie": "3.13"}


@dataclass(frozen=True)
class Release:
    codename: str
    python: str  # "3.11"
    pretty: str

    @property
    def abi(self) -> str:
        return "cp" + self.python.replace(".", "")


def parse_os_release(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            parts = shlex.split(value, comments=False) or [""]
            out[key.strip()] = parts[0]
    return out


def detect_release(os_release: bytes | None, name: str) -> Release:
    if os_release is None:
        raise ProvisionError(f"{name}: no /etc/os-release in the root: not a Raspberry Pi OS image")
    fields = parse_os_release(os_release.decode("utf-8", errors="replace"))
    if fields.get("ID") not in ("debian", "raspbian"):
        raise ProvisionError(
            f"{name}: the root is {fields.get('PRETTY_NAME', fields.get('ID', '?'))}, "
            "not Raspberry Pi OS (Debian)"
        )
    codename = fields.get("VERSION_CODENAME", "")
    if codename not in PYTHONS:
        raise ProvisionError(
            f"{name}: Raspberry Pi OS {codename or '(no VERSION_CODENAME)'} is not supported "
            f"(unknown Python; supported: {', '.join(PYTHONS)})"
        )
    return Release(codename, PYTHONS[codename], fields.get("PRETTY_NAME", codename))
