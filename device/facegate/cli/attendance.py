"""Who entered an exam session, and when (the door's attendance log)."""

from __future__ import annotations

from pathlib import Path

import click

from facegate.cli.root import Context, echo_json, json_option, pass_ctx
from facegate.errors import FacegateError


@click.command()
@click.argument("session_id")
@click.option(
    "--csv", "as_csv", is_flag=True, help="CSV: session_id, student_id, entered_at, attempt_id."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the CSV to a new owner-only file (a link is refused).",
)
@json_option
@pass_ctx
def attendance(
    ctx: Context, session_id: str, as_csv: bool, out: Path | None, as_json: bool
) -> None:
    """Who entered an exam session, and when."""
    from facegate.access.attendance import AttendanceLog
    from facegate.common.files import write_private_file

    if as_json and (as_csv or out is not None):
        raise click.UsageError("--json prints JSON; it does not go with --csv or --out")
    path = ctx.settings.paths.attendance_path()
    if not path.exists():
        raise FacegateError(f"no attendance log at {path}: nobody has entered through this door")
    with AttendanceLog(path) as log:
        known = log.sessions()
        rows = log.entries(session_id)
        text = log.to_csv(session_id) if as_csv or out else ""
    if not rows and session_id not in known:
        raise FacegateError(
            f"no entries for session {session_id!r}; sessions with entries: "
            f"{', '.join(known) or 'none'}"
        )
    many = f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}"
    if as_json:
        entries = [
            {"student_id": student, "entered_at": at, "attempt_id": attempt}
            for _sid, student, at, attempt in rows
        ]
        echo_json({"session_id": session_id, "entries": entries})
    elif out is not None:
        try:
            write_private_file(out, text.encode(), replace=True)
        except OSError as exc:
            raise FacegateError(f"cannot write {out}: {exc}") from None
        click.echo(f"wrote {many} to {out}")
    elif as_csv:
        click.echo(text, nl=False)
    else:
        click.echo(f"{session_id}: {many}")
        for _sid, student, at, _attempt in rows:
            click.echo(f"  {at}  {student}")
