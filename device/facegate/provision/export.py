"""``facegate provision dashboard-keys``: what the dashboard host and the broker need.

OUT/doors/<id>.key      each door's command key (0600), the dashboard's [commands] key_dir
OUT/mosquitto/passwd    one ``$7$`` line per door (mosquitto's password_file)
OUT/mosquitto/acl       each door's own topics (mosquitto's acl_file; add the dashboard's lines)
"""

from __future__ import annotations

from pathlib import Path

from facegate.common.files import write_private_file
from facegate.provision.broker_files import acl_lines, password_line
from facegate.provision.errors import ProvisionError
from facegate.provision.secrets import FleetSecrets


def export_dashboard(secrets: FleetSecrets, out: Path) -> list[Path]:
    secrets.check()
    if out.exists() and any(out.iterdir()):
        raise ProvisionError(f"{out} is not empty; export into a new folder")
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    out.chmod(0o700)
    fleet = secrets.fleet
    for sub in ("doors", "mosquitto"):
        (out / sub).mkdir(mode=0o700)
    written = []
    for door in fleet.doors:
        path = out / "doors" / f"{door.id}.key"
        write_private_file(path, secrets.path(door, "command.key").read_bytes())
        written.append(path)
    passwd = "".join(password_line(d.id, secrets.password(d)) + "\n" for d in fleet.doors)
    acl = "".join(acl_lines(d) + "\n" for d in fleet.doors)
    for name, text in (("passwd", passwd), ("acl", acl)):
        path = out / "mosquitto" / name
        write_private_file(path, text.encode())
        written.append(path)
    return written
