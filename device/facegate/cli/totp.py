"""The TOTP second factor: enrol a student's authenticator app, list, remove."""

from __future__ import annotations

import io
from pathlib import Path

import click

from facegate.cli.root import Context, echo_json, json_option, pass_ctx
from facegate.errors import FacegateError


@click.group()
def totp() -> None:
    """The TOTP second factor: enrol a student's authenticator app, list, remove."""


def _store(ctx: Context, create: bool = False):  # type: ignore[no-untyped-def]
    from facegate.identity.second_factor import SecondFactorStore

    paths = ctx.settings.paths
    return SecondFactorStore.open(paths.second_factor_path(), paths.resolved_key_file(), create)


@totp.command("enroll")
@click.argument("student_id")
@click.option(
    "--qr",
    "qr_png",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the QR code as a PNG (default: STUDENT_ID-totp.png in the current folder).",
)
@click.option(
    "--replace", is_flag=True, help="Issue a new secret; the old app entry stops working."
)
@pass_ctx
def totp_enroll(ctx: Context, student_id: str, qr_png: Path | None, replace: bool) -> None:
    """Create a student's TOTP secret; show it as a QR code for their authenticator app.

    The PNG is written new and owner-only (0600); a symbolic link in its place is refused
    before any secret is made.
    """
    import qrcode

    from facegate.common.files import write_private_file
    from facegate.identity.second_factor import provisioning_uri

    out = qr_png or Path(f"{student_id}-totp.png")
    if out.is_symlink():
        raise FacegateError(f"{out} is a symbolic link; refusing to write the QR code through it")
    with _store(ctx, create=True) as store:
        secret = store.enroll(student_id, replace_existing=replace)
    uri = provisioning_uri(secret, student_id, f"facegate {ctx.settings.device.id}")
    qr = qrcode.QRCode(border=4)  # the standard quiet zone: 2 fails some readers
    qr.add_data(uri)
    qr.make(fit=True)
    terminal = io.StringIO()
    qr.print_ascii(out=terminal, invert=True)
    click.echo(terminal.getvalue(), nl=False)
    png = io.BytesIO()
    qr.make_image().save(png)
    try:
        write_private_file(out, png.getvalue(), replace=True)
    except OSError as exc:
        raise FacegateError(f"cannot write the QR code to {out}: {exc}") from None
    click.echo(uri)
    click.echo(
        f"enrolled {student_id}: scan the code above or {out} (readable by you only; delete it "
        "once scanned: it holds the secret)"
    )


@totp.command("list")
@json_option
@pass_ctx
def totp_list(ctx: Context, as_json: bool) -> None:
    """Students with a TOTP secret."""
    with _store(ctx) as store:
        ids = store.enrolled()
    if as_json:
        echo_json({"students": list(ids)})
        return
    click.echo(f"{len(ids)} student(s) with a TOTP secret")
    for sid in ids:
        click.echo(f"  {sid}")


@totp.command("remove")
@click.argument("student_id")
@pass_ctx
def totp_remove(ctx: Context, student_id: str) -> None:
    """Remove a student's TOTP secret (their app entry stops working)."""
    with _store(ctx) as store:
        if not store.remove(student_id):
            raise FacegateError(f"{student_id!r} has no TOTP secret")
    click.echo(f"removed the TOTP secret of {student_id}")
