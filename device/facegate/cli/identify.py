"""Identify the faces in photos against the gallery."""

from __future__ import annotations

from pathlib import Path

import click

from facegate.cli.root import Context, echo_json, json_option, pass_ctx


@click.command()
@click.argument("photos", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--candidates", help="Comma-separated student ids to search among (a roster).")
@json_option
@pass_ctx
def identify(ctx: Context, photos: tuple[Path, ...], candidates: str | None, as_json: bool) -> None:
    """Identify the faces in photos against the gallery (no liveness: photos are not live)."""
    from facegate.identity.enrolment import expand_photos
    from facegate.identity.gallery import open_configured_gallery
    from facegate.identity.identification import format_row, identify_photos, parse_roster
    from facegate.identity.recognizer import Recognizer
    from facegate.vision.pipeline import FacePipeline

    pipeline = FacePipeline.from_settings(ctx.settings)
    with open_configured_gallery(
        ctx.settings.paths, pipeline.embedder.name, pipeline.embedder.dim
    ) as g:
        recognizer = Recognizer(pipeline, g, ctx.settings)
    rows = identify_photos(recognizer, expand_photos(photos), parse_roster(candidates))
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(format_row(row))
