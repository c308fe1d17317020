"""What goes on one door's card, as plain data: folders, files (owner, mode) and links.

The builder (``build``) hands this list to the ext4 adapter; nothing here touches an image,
so a test can read exactly what a door gets. Secrets are root-owned 0600 files in the root
file system and reach the service by ``LoadCredential=`` (systemd/facegate.service and its
``mqtt.conf`` drop-in); the boot partition only gets ``dtparam=strict_gpiod``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from shlex import quote

from facegate.provision.fleet import Door, Fleet, Network

FIRSTBOOT = "facegate-firstboot"
STAGE = "/var/lib/facegate-provision"
WHEELHOUSE = "/opt/facegate/wheelhouse"
UNITS = "/etc/systemd/system"


@dataclass(frozen=True)
class Entry:
    path: str
    kind: str = "file"  # file | dir | link
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    data: bytes | None = None
    source: Path | None = None  # a host file copied as is (wheels)
    target: str = ""  # for links
    secret: bool = False


def _dir(path: str, mode: int = 0o755) -> Entry:
    return Entry(path, "dir", mode)


def _text(path: str, text: str, mode: int = 0o644) -> Entry:
    return Entry(path, data=text.encode(), mode=mode)


def _secret(path: str, data: bytes) -> Entry:
    return Entry(path, data=data, mode=0o600, secret=True)


def packaged(name: str) -> bytes:
    """A file shipped with facegate: the units (systemd/) and the first-boot files."""
    if name.startswith("units/"):
        return resources.files("facegate.units").joinpath(name.removeprefix("units/")).read_bytes()
    return resources.files("facegate.provision").joinpath("files", name).read_bytes()


def nm_profile(door: Door, net: Network, psk: str | None) -> tuple[str, str]:
    """A NetworkManager keyfile (name, text); Bookworm and Trixie both use NetworkManager."""
    name = f"facegate-{net.kind}"
    lines = [
        "[connection]",
        f"id={name}",
        f"uuid={_uuid(door.id + net.kind)}",
        f"type={'wifi' if net.kind == 'wifi' else 'ethernet'}",
        "autoconnect=true",
        "autoconnect-priority=100",
        "",
    ]
    if net.kind == "wifi":
        lines += ["[wifi]", "mode=infrastructure", f"ssid={net.ssid}", ""]
        lines += ["[wifi-security]", "key-mgmt=wpa-psk", f"psk={psk}", ""]
    else:
        lines += ["[ethernet]", ""]
    if net.address is None:
        lines += ["[ipv4]", "method=auto"]
    else:
        lines += ["[ipv4]", "method=manual", f"address1={net.address},{net.gateway}"]
    if net.dns:
        lines.append("dns=" + ";".join(str(d) for d in net.dns) + ";")
    lines += ["", "[ipv6]", "method=auto", ""]
    return name, "\n".join(lines)


def _uuid(seed: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{seed}.facegate.invalid"))


@dataclass(frozen=True)
class DoorInputs:
    """What only this door's card holds, already read and validated."""

    config_text: str
    secrets: dict[str, bytes]  # gallery.key, command.key, mqtt.password
    roster: bytes | None
    gallery_passphrase: bytes | None
    requirement: str
    psk: str | None
    manifest: dict


def fleet_entries(
    fleet: Fleet, ca: bytes | None, wheels: list[Path], gallery: bytes | None
) -> list[Entry]:
    """What every card of the fleet holds: written once into a staged copy of the base image,
    which each door's image then starts from (the wheelhouse is written once, not per door)."""
    out = [
        _dir("/etc/facegate"),
        _dir("/etc/facegate/provision", 0o700),
        _text("/etc/facegate/provision/authorized_keys", "\n".join(fleet.fleet.ssh_keys) + "\n"),
        _dir(UNITS),
        Entry(f"{UNITS}/facegate.service", data=packaged("units/facegate.service")),
        _dir(f"{UNITS}/facegate.service.d"),
        Entry(
            f"{UNITS}/facegate.service.d/mqtt.conf",
            data=packaged("units/facegate.service.d/mqtt.conf"),
        ),
        Entry(f"{UNITS}/{FIRSTBOOT}.service", data=packaged(f"{FIRSTBOOT}.service")),
        _dir(f"{UNITS}/multi-user.target.wants"),
        Entry(
            f"{UNITS}/multi-user.target.wants/{FIRSTBOOT}.service",
            "link",
            target=f"{UNITS}/{FIRSTBOOT}.service",
        ),
        _dir("/usr/local/sbin"),
        Entry(f"/usr/local/sbin/{FIRSTBOOT}", data=packaged(f"{FIRSTBOOT}.sh"), mode=0o755),
        _dir("/etc/ssh"),
        _dir("/etc/ssh/sshd_config.d"),
        _text(
            "/etc/ssh/sshd_config.d/facegate.conf",
            "# facegate provision: keys only\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin no\n",
        ),
        _dir("/etc/NetworkManager"),
        _dir("/etc/NetworkManager/system-connections", 0o700),
    ]
    if fleet.fleet.time_servers:
        out += [
            _dir("/etc/systemd"),
            _dir("/etc/systemd/timesyncd.conf.d"),
            _text(
                "/etc/systemd/timesyncd.conf.d/facegate.conf",
                "[Time]\nNTP=" + " ".join(fleet.fleet.time_servers) + "\n",
            ),
        ]
    if ca is not None:
        out.append(Entry("/etc/facegate/broker-ca.crt", data=ca))
    out += [_dir("/opt"), _dir("/opt/facegate"), _dir(WHEELHOUSE)]
    out += [Entry(f"{WHEELHOUSE}/{w.name}", source=w) for w in sorted(wheels)]
    out.append(_dir(STAGE, 0o700))
    if gallery is not None:  # encrypted with the export passphrase
        out.append(_secret(f"{STAGE}/gallery.bundle", gallery))
    return out


def door_entries(fleet: Fleet, door: Door, inputs: DoorInputs) -> list[Entry]:
    """One door's own files, in a fixed order (same inputs, same card)."""
    net = fleet.network_of(door)
    admin = fleet.fleet.admin_user
    name, profile = nm_profile(door, net, inputs.psk)
    out = [
        _text("/etc/hostname", f"{door.hostname}\n"),
        Entry("/etc/facegate/facegate.toml", data=inputs.config_text.encode(), mode=0o600),
        *(_secret(f"/etc/facegate/{n}", v) for n, v in sorted(inputs.secrets.items())),
        _text("/etc/facegate/provision/manifest.json", json.dumps(inputs.manifest, indent=2)),
        _text(
            "/etc/facegate/provision/admin.conf",
            f"ADMIN_USER={quote(admin)}\nDOOR_HOSTNAME={quote(door.hostname)}\n"
            f"REQUIREMENT={quote(inputs.requirement)}\n",
        ),
        Entry(
            f"/etc/NetworkManager/system-connections/{name}.nmconnection",
            data=profile.encode(),
            mode=0o600,
            secret=inputs.psk is not None,
        ),
    ]
    if inputs.roster is not None:
        out.append(Entry("/etc/facegate/roster.toml", data=inputs.roster, mode=0o600))
    if inputs.gallery_passphrase is not None:
        out.append(_secret(f"{STAGE}/gallery.passphrase", inputs.gallery_passphrase))
    return out


def strict_gpiod(config_txt: bytes) -> bytes:
    """``config.txt`` with ``dtparam=strict_gpiod`` (released GPIO outputs fall back to inputs)."""
    text = config_txt.decode("utf-8", errors="replace")
    if any(line.strip() == "dtparam=strict_gpiod" for line in text.splitlines()):
        return config_txt
    sep = "" if not text or text.endswith("\n") else "\n"
    # [all]: the line must not fall under a model filter such as [cm4] above it.
    tail = "# facegate: fail secure (systemd/README.md)\n[all]\ndtparam=strict_gpiod\n"
    return (text + sep + tail).encode()
