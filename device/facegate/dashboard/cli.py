"""``facegate dashboard ...``: serve, users, roster import, bench, and the one-command demo.

Only click is imported here; each command imports the dashboard's own dependencies (the
``dashboard`` extra) when it runs, so a door without them still starts.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from facegate.errors import FacegateError


def _settings(ctx: click.Context):
    from facegate.dashboard.settings import load_dashboard_settings

    return load_dashboard_settings(ctx.obj)


def _need_extra() -> None:
    try:
        import sqlalchemy  # noqa: F401
        import starlette  # noqa: F401
    except ImportError as exc:
        raise FacegateError(
            f"the dashboard needs its extra: pip install 'facegate[dashboard]' ({exc.name} missing)"
        ) from None


async def _with_engine(settings, work):
    from facegate.dashboard.service import open_database

    engine = await open_database(settings)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


def _password(password_file: Path | None, confirm: bool = True) -> str:
    if password_file is not None:
        from facegate.dashboard.settings import read_secret

        return read_secret(password_file, "--password-file")
    return click.prompt("password", hide_input=True, confirmation_prompt=confirm)


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="FACEGATE_DASHBOARD_CONFIG",
    help="The dashboard's TOML settings (docs/dashboard.md); default: built-in defaults.",
)
@click.pass_context
def dashboard(ctx: click.Context, config_path: Path | None) -> None:
    """The proctors' dashboard: doors live in a browser (needs facegate[dashboard])."""
    ctx.obj = config_path


@dashboard.command("serve")
@click.option("--log-level", default="info", show_default=True)
@click.pass_context
def serve(ctx: click.Context, log_level: str) -> None:
    """Run the dashboard (one process: MQTT ingest, web server, live updates)."""
    _need_extra()
    from facegate.dashboard.service import serve as run
    from facegate.service.logging_setup import setup_logging

    settings = _settings(ctx)
    setup_logging(log_level.upper())
    run(settings, log_level)


@dashboard.command("add-user")
@click.argument("name")
@click.option("--role", type=click.Choice(["proctor", "exam_office", "admin"]), required=True)
@click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_context
def add_user(ctx: click.Context, name: str, role: str, password_file: Path | None) -> None:
    """Create a user (the password is asked for, or read from a file's first line)."""
    _need_extra()
    from facegate.dashboard.auth.users import add_user as add

    password = _password(password_file)
    asyncio.run(_with_engine(_settings(ctx), lambda e: add(e, name, role, password)))
    click.echo(f"user {name} ({role}) added")


@dashboard.command("set-password")
@click.argument("name")
@click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_context
def set_password(ctx: click.Context, name: str, password_file: Path | None) -> None:
    """Set a user's password; every session they had ends."""
    _need_extra()
    from facegate.dashboard.auth.users import set_password as change

    password = _password(password_file)
    asyncio.run(_with_engine(_settings(ctx), lambda e: change(e, name, password)))
    click.echo(f"password of {name} changed; their sessions ended")


@dashboard.command("import-roster")
@click.argument("roster", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--by", default="cli", show_default=True, help="Recorded as the importer.")
@click.pass_context
def import_roster(ctx: click.Context, roster: Path, by: str) -> None:
    """Import the doors' roster TOML for attendance (validated as the doors validate it)."""
    _need_extra()
    from facegate.access.roster import load_roster
    from facegate.dashboard.attendance.roster_store import import_roster as store

    parsed = load_roster(roster)
    n = asyncio.run(_with_engine(_settings(ctx), lambda e: store(e, parsed, by)))
    click.echo(f"{roster}: {n} sessions imported")


@dashboard.command("bench")
@click.option("--events", type=click.IntRange(100, 1_000_000), default=20_000, show_default=True)
@click.option("--stored", type=click.IntRange(0, 10_000_000), default=1_000_000, show_default=True)
@click.option("--doors", type=click.IntRange(1, 2000), default=200, show_default=True)
@click.option("--latency-events", type=click.IntRange(10, 10_000), default=300, show_default=True)
@click.option("--rate", type=click.FloatRange(1, 1000), default=50.0, show_default=True)
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True)
def bench(
    events: int,
    stored: int,
    doors: int,
    latency_events: int,
    rate: float,
    directory: Path | None,
    as_json: bool,
) -> None:
    """Ingest events/s (acknowledged after commit), publish-to-page latency in Chromium,
    memory with DOORS doors and STORED events."""
    _need_extra()
    from facegate.dashboard.bench import format_bench, measure

    result = measure(events, stored, doors, latency_events, rate, directory)
    click.echo(json.dumps(result, indent=2) if as_json else format_bench(result))


@dashboard.command("demo")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--admin-password", help="Default: a random one, printed.")
@click.option(
    "--rounds", type=click.IntRange(0, 1000), default=0, help="0: run the door demo until Ctrl-C."
)
def demo(port: int, admin_password: str | None, rounds: int) -> None:
    """A local Mosquitto, the door demo publishing to it, the dashboard on 127.0.0.1:PORT."""
    _need_extra()
    from facegate.dashboard.demo import run_demo

    sys.exit(run_demo(port, admin_password, rounds, click.echo))
