"""The demos: the door end to end on mock pins, or recognition alone on photos."""

from __future__ import annotations

from pathlib import Path

import click

from facegate.cli.root import Context, broker_config, pass_ctx
from facegate.errors import FacegateError


@click.command()
@click.option(
    "--recognition",
    is_flag=True,
    help="Instead: enrol two people from photos, identify new shots, reject a stranger.",
)
@click.option(
    "--keep",
    type=click.Path(path_type=Path, file_okay=False),
    help="With --recognition: keep the demo gallery in this folder.",
)
@click.option(
    "--broker",
    help="HOST:PORT of an MQTT broker to publish the demo's events to (user, password file, TLS "
    "and command key from the config's [mqtt] section; else plain TCP, anonymous).",
)
@pass_ctx
def demo(ctx: Context, recognition: bool, keep: Path | None, broker: str | None) -> None:
    """The door end to end on mock pins: a live student, a photo, a stranger, a reused code."""
    if recognition:
        from facegate.demo.run import run_demo

        result = run_demo(ctx.settings, click.echo, keep)
        if not result.ok:
            raise FacegateError("the demo did not reach the expected decisions (see above)")
        return
    from facegate.demo.door_demo import run_door_demo
    from facegate.service.logging_setup import setup_logging

    mqtt_config = broker_config(ctx.settings, broker) if broker else None
    setup_logging("ERROR")  # the demo narrates; the service's own log lines would repeat it
    scenes = run_door_demo(ctx.settings, click.echo, mqtt_config)
    wrong = [s for s in scenes if not s.ok]
    if wrong:
        raise FacegateError(
            "the demo did not reach the expected decisions: "
            + "; ".join(f"{s.label}: expected {s.expected}, got {s.reasons}" for s in wrong)
        )
