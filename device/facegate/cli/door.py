"""The door itself: check a config, verify the model files, run the service."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from facegate.cli.root import Context, echo_json, json_option, pass_ctx
from facegate.config import load_settings


@click.command("check-config")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def check_config(file: Path) -> None:
    """Validate a configuration file and print the settings it gives (JSON).

    An invalid file (or roster) exits with 78, as the service does.
    """
    settings = load_settings(file)
    click.echo(json.dumps(settings.model_dump(mode="json"), indent=2))
    roster = settings.access.roster_file
    if roster is not None:
        from facegate.access.roster import load_roster

        sessions = load_roster(roster).session
        click.echo(f"{roster}: valid, {len(sessions)} sessions", err=True)
    click.echo(f"{file}: valid", err=True)


@click.command("run")
@pass_ctx
def run(ctx: Context) -> None:
    """Run the door service (systemd starts this; see systemd/README.md)."""
    from facegate.door import DoorService
    from facegate.service.logging_setup import setup_logging

    setup_logging(ctx.settings.service.log_level)
    code = DoorService(ctx.settings).run()
    if code:
        sys.exit(code)


@click.command("check-models")
@json_option
@pass_ctx
def check_models(ctx: Context, as_json: bool) -> None:
    """Verify size and sha256 of every model file facegate loads."""
    from facegate.vision import model_files as mf

    models_dir = ctx.settings.paths.models_dir
    rows = []
    for model in mf.SHIPPED_MODELS:
        path = mf.verify(model, models_dir)
        rows.append({"name": model.name, "sha256": model.sha256, "size": model.size, "path": path})
        if not as_json:
            click.echo(f"ok  {model.name:<40} {model.sha256[:16]}  {path}")
    if as_json:
        echo_json({"ok": True, "models": rows})
