"""``facegate provision ...``: fleet file checks, secrets, card images, dashboard export.

Only click is imported here; each command imports its parts when it runs, so the door's own
commands never load provisioning code.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

FLEET = click.argument("fleet_file", type=click.Path(path_type=Path, dir_okay=False))
SECRETS = click.option(
    "--secrets",
    "secrets_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="The fleet's secrets folder (0700). Default: 'secrets' next to the fleet file.",
)
ROSTER = click.option(
    "--roster",
    "rosters",
    multiple=True,
    metavar="[DOOR=]FILE",
    help="The exam roster for every door (FILE) or for one door (DOOR=FILE); repeatable.",
)


def _secrets(fleet_file: Path, secrets_dir: Path | None):
    from facegate.provision.fleet import load_fleet
    from facegate.provision.secrets import FleetSecrets

    fleet = load_fleet(fleet_file)
    return FleetSecrets(secrets_dir or fleet_file.resolve().parent / "secrets", fleet)


@click.group()
def provision() -> None:
    """SD-card images for a fleet of doors, made without root (docs/provisioning.md)."""


@provision.command("check")
@FLEET
@ROSTER
def check(fleet_file: Path, rosters: tuple[str, ...]) -> None:
    """Validate FLEET_FILE and every door's merged config; writes nothing."""
    from facegate.provision.fleet import load_fleet
    from facegate.provision.inputs import check_configs, check_rosters, parse_rosters

    fleet = load_fleet(fleet_file)
    by_door = parse_rosters(rosters, fleet)
    check_rosters(by_door)
    check_configs(fleet, by_door)
    for door in fleet.doors:
        net = fleet.network_of(door)
        how = "DHCP" if net.address is None else str(net.address)
        click.echo(f"{door.id:20} {door.hostname:20} {net.kind:8} {how:18} {door.room}")
    click.echo(f"ok: fleet {fleet.fleet.name}, {len(fleet.doors)} door(s)")


@provision.command("secrets")
@FLEET
@SECRETS
@click.option("--create", is_flag=True, help="Make the missing ones (existing ones are kept).")
def secrets(fleet_file: Path, secrets_dir: Path | None, create: bool) -> None:
    """List the fleet's secret files and their modes (never their contents)."""
    store = _secrets(fleet_file, secrets_dir)
    made = {(s.door, s.name) for s in store.ensure()} if create else set()
    for item in store.listing():
        state = "missing" if item.mode is None else f"{item.mode:04o}"
        note = " (new)" if (item.door, item.name) in made else ""
        bad = "" if item.mode is None or item.ok else "  OPEN TO OTHERS: chmod 600"
        click.echo(f"{item.door:20} {item.name:14} {state:8} {item.path}{note}{bad}")


@provision.command("build")
@FLEET
@click.option(
    "--image",
    "base",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Raspberry Pi OS Lite arm64 (.img or .img.xz, Bookworm or Trixie); only read.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Where <door>.img files go.",
)
@click.option(
    "--wheelhouse",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="aarch64 wheels for the image's Python (scripts/check_aarch64_wheels.sh).",
)
@click.option(
    "--gallery",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The enrolled students: a `facegate gallery export` file.",
)
@click.option(
    "--gallery-passphrase-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The export's passphrase (first line); needed with --gallery.",
)
@ROSTER
@SECRETS
@click.option("--door", "door_ids", multiple=True, help="Only this door (repeatable).")
@click.option(
    "--require",
    "requirements",
    multiple=True,
    default=("facegate",),
    show_default=True,
    help="What the first boot installs from the wheelhouse.",
)
@click.option(
    "--max-image-mib",
    type=click.IntRange(min=1),
    help="Refuse to grow the root beyond an image of this many MiB (the card's size).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the images and seconds per phase as JSON."
)
def build(
    fleet_file: Path,
    base: Path,
    out: Path,
    wheelhouse: Path,
    gallery: Path | None,
    gallery_passphrase_file: Path | None,
    rosters: tuple[str, ...],
    secrets_dir: Path | None,
    door_ids: tuple[str, ...],
    requirements: tuple[str, ...],
    max_image_mib: int | None,
    as_json: bool,
) -> None:
    """One card image per door: config, secrets (root 0600), units, wheelhouse, first boot."""
    from facegate.provision.build import build as build_images
    from facegate.provision.build import prepare
    from facegate.provision.errors import ProvisionError
    from facegate.provision.inputs import Gallery, parse_rosters, read_passphrase

    if (gallery is None) != (gallery_passphrase_file is None):
        raise ProvisionError("--gallery and --gallery-passphrase-file go together")
    started = time.monotonic()
    store = _secrets(fleet_file, secrets_dir)
    fleet = store.fleet
    plan = prepare(
        fleet,
        base=base,
        out=out,
        wheelhouse=wheelhouse,
        secrets_dir=store.directory,
        requirements=list(requirements),
        rosters=parse_rosters(rosters, fleet),
        gallery=Gallery(gallery, read_passphrase(gallery_passphrase_file))
        if gallery and gallery_passphrase_file
        else None,
        door_ids=door_ids,
        max_image_mib=max_image_mib,
    )
    checked = time.monotonic() - plan.seconds["stage"] - plan.seconds.get("grow", 0.0)
    if not as_json:
        click.echo(
            f"{base.name}: {plan.release.pretty}, CPython {plan.release.python}; "
            f"{len(plan.wheels)} wheel(s) resolve offline; {len(plan.made)} new secret(s)"
        )
        if plan.grow:
            click.echo(
                f"the root partition was grown by {plan.grow >> 20} MiB for the payload "
                f"(the images are {plan.staged.stat().st_size >> 20} MiB)"
            )
    with click.progressbar(
        build_images(plan),
        length=2 * len(plan.doors),
        label="copies, then each door's files",
        file=click.get_text_stream("stderr"),
    ) as steps:
        written = [path for kind, path in steps if kind == "image"]
    done = time.monotonic()
    seconds = {"total": done - started, "checks": checked - started, "images": done - checked}
    if as_json:
        report = {
            "images": [str(p) for p in written],
            "release": plan.release.codename,
            "wheels": len(plan.wheels),
            "new_secrets": len(plan.made),
            "grown_root_bytes": plan.grow,
            "seconds": {**seconds, **plan.seconds},
        }
        click.echo(json.dumps(report, indent=2))
        return
    for path in written:
        click.echo(f"wrote {path}")
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in plan.seconds.items())
    click.echo(
        f"{len(written)} image(s) in {done - started:.1f} s: checks and unpacking "
        f"{checked - started:.1f} s, images {done - checked:.1f} s ({parts})"
    )


@provision.command("inspect")
@click.argument("image", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def inspect(image: Path, as_json: bool) -> None:
    """What a built image holds: door, versions, files with owner and mode (secrets unread)."""
    from facegate.provision.inspect import inspect_image

    info = inspect_image(image)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(
        f"door {info['door']}  facegate {info['facegate']}  {info['os']} (CPython {info['python']})"
    )
    click.echo(f"config.txt dtparam=strict_gpiod: {'yes' if info['strict_gpiod'] else 'NO'}")
    for f in info["files"]:
        mark = "  (secret)" if f["secret"] else ""
        click.echo(f"{f['mode']} {f['uid']}:{f['gid']} {f['type']:4} {f['path']}{mark}")


@provision.command("dashboard-keys")
@FLEET
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@SECRETS
def dashboard_keys(fleet_file: Path, out: Path, secrets_dir: Path | None) -> None:
    """Per-door command keys, Mosquitto password and ACL lines, into a new folder OUT."""
    from facegate.provision.export import export_dashboard as export

    for path in export(_secrets(fleet_file, secrets_dir), out):
        click.echo(f"wrote {path}")


# The command's first name, kept so existing scripts keep working; hidden from --help.
provision.add_command(
    click.Command(
        "export-dashboard",
        params=dashboard_keys.params,
        callback=dashboard_keys.callback,
        help="The old name of dashboard-keys.",
        hidden=True,
    )
)
