"""The door's MQTT side: command keys and signed remote commands (docs/mqtt.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from facegate.cli.root import Context, broker_config, echo_json, json_option, pass_ctx
from facegate.errors import FacegateError

# The CLI's own ceiling for --seconds; the door refuses more than its hardware allows.
MAX_UNLOCK_S = 60.0


@click.group()
def mqtt() -> None:
    """The door's MQTT side: command keys and signed remote commands (docs/mqtt.md)."""


@mqtt.command("new-key")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
def mqtt_new_key(out: Path) -> None:
    """Write a new command key (0600). The door and its operators hold the same file."""
    from facegate.common.key_files import create_key_file

    if out.exists():
        raise FacegateError(f"{out} exists: a new key would lock out every operator holding it")
    create_key_file(out)
    click.echo(f"wrote {out}: set mqtt.command_key_file to it on the door")


def _local_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry (some containers)
        return f"uid-{os.getuid()}"


def _form(name: str, value: str | None, seconds: float | None, valid_s: int) -> dict[str, str]:
    """The command line as the text fields :func:`command_args` reads (the dashboard's too)."""
    if name == "unlock":
        return {"seconds": "" if seconds is None else repr(seconds)}
    if name == "lockdown":
        return {"on": value or ""}
    if name == "reload":
        return {"what": value or "all"}
    return {"student_id": value or "", "valid_s": str(valid_s)}


@mqtt.command("command")
@click.argument("name", type=click.Choice(["unlock", "lockdown", "reload", "override"]))
@click.argument("value", required=False)
@click.option("--broker", help="HOST:PORT (default: the config's mqtt.host and mqtt.port).")
@click.option(
    "--key",
    "key_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The door's command key (default: mqtt.command_key_file).",
)
@click.option("--device", "device_id", help="The door's id (default: device.id).")
@click.option("--seconds", type=click.FloatRange(0.5, MAX_UNLOCK_S), help="unlock: how long.")
@click.option("--valid-s", type=click.IntRange(60, 86400), default=3600, show_default=True)
@click.option("--timeout", type=click.FloatRange(0.5, 120.0), default=10.0, show_default=True)
@click.option(
    "--operator",
    default=lambda: _local_user(),
    show_default="the local user",
    help="Who asks: signed into the command, recorded in the door's audit event.",
)
@json_option
@pass_ctx
def mqtt_command(
    ctx: Context,
    name: str,
    value: str | None,
    broker: str | None,
    key_file: Path | None,
    device_id: str | None,
    seconds: float | None,
    valid_s: int,
    timeout: float,
    operator: str,
    as_json: bool,
) -> None:
    """Sign and send a command, print the door's answer (exit 1 when the door refuses it).

    \b
    facegate mqtt command unlock [--seconds 5]
    facegate mqtt command lockdown on|off
    facegate mqtt command reload [gallery|roster|all]
    facegate mqtt command override STUDENT_ID [--valid-s 3600]   (prints the one-time code)
    """
    from facegate.common.key_files import read_key_file
    from facegate.mqtt.command_args import BadCommand, command_args
    from facegate.mqtt.operator import send_command

    s = ctx.settings
    try:
        args = command_args(name, _form(name, value, seconds, valid_s), MAX_UNLOCK_S)
    except BadCommand as exc:
        raise click.BadParameter(str(exc), param_hint="VALUE") from None
    path = key_file or s.mqtt.command_key_file
    if path is None:
        raise FacegateError("no command key: pass --key or set mqtt.command_key_file")
    answer = send_command(
        broker_config(s, broker),
        device_id or s.device.id,
        read_key_file(path),
        name,
        args,
        timeout,
        operator=operator,
    )
    if as_json:
        echo_json(answer)
    else:
        verdict = "accepted" if answer["accepted"] else f"REFUSED ({answer['reason']})"
        click.echo(f"{answer['device_id']}: {name} {verdict}: {answer['detail']}")
        code = (answer.get("result") or {}).get("code")
        if code:
            expires = answer["result"]["expires"]
            click.echo(f"one-time override code for {value}: {code} (valid until {expires})")
    if not answer["accepted"]:
        sys.exit(1)
