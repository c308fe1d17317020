"""The root group, the context every command receives, the output conventions, exit codes.

Exit codes (docs/cli.md): 0 done; 1 an error the message explains (bad input, a missing
file, a refused remote command, an evaluation that did not reach its bar); 2 a usage error;
78 (EX_CONFIG) a configuration error, which systemd does not restart
(``RestartPreventExitStatus=78``); 130 interrupted.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from facegate import __version__
from facegate.config import Settings, find_config_file, load_settings
from facegate.config.mqtt import MqttConfig
from facegate.errors import ConfigError, FacegateError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CONFIG = 78  # sysexits.h EX_CONFIG
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What every command gets: the loaded settings (``--config``, ``--data-dir`` applied)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings


pass_ctx = click.make_pass_decorator(Context)


def json_option(f: F) -> F:
    """``--json``: the result as one JSON document on stdout; progress and notes go to stderr
    (or nowhere)."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the result as JSON on stdout."
    )(f)


def echo_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


def show_progress(as_json: bool) -> bool:
    """Progress bars go to stderr, only when it is a terminal and the output is not JSON."""
    return not as_json and sys.stderr.isatty()


def broker_config(settings: Settings, broker: str | None) -> MqttConfig:
    """The config's ``[mqtt]`` section, at ``--broker HOST:PORT`` when given."""
    from facegate.common.address import parse_host_port

    if broker is None:
        return settings.mqtt
    try:
        host, port = parse_host_port(broker)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--broker") from None
    return settings.mqtt.model_copy(update={"host": host, "port": port})


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="FACEGATE_CONFIG",
    help="TOML configuration file (default: $CONFIGURATION_DIRECTORY/facegate.toml, then "
    "/etc/facegate/facegate.toml, then built-in defaults).",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="FACEGATE_DATA_DIR",
    help="Override paths.data_dir (gallery and key file).",
)
@click.version_option(__version__, prog_name="facegate")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, data_dir: Path | None) -> None:
    """facegate: face + liveness access control for exam-room doors."""
    # systemd's ExecStart gives no --config: the file is where ConfigurationDirectory= puts it.
    settings = load_settings(config_path or find_config_file())
    if data_dir is not None:
        settings = settings.model_copy(
            update={"paths": settings.paths.model_copy(update={"data_dir": data_dir})}
        )
    ctx.obj = Context(settings)


def main() -> None:
    """The console script: one clear line for an error the user can act on, and its code."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    except FacegateError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    if isinstance(code, int) and code:
        sys.exit(code)


def emit(result: Any, format_text: Callable[[Any], str], as_json: bool) -> None:
    """A command's result: JSON with ``--json``, else its text form."""
    if as_json:
        echo_json(result)
    else:
        click.echo(format_text(result))
