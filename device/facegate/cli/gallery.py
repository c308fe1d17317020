"""Enrolment and the gallery: enrol, list, remove, export, import, calibrate."""

from __future__ import annotations

import os
from pathlib import Path

import click
from tqdm import tqdm

from facegate.cli.root import Context, echo_json, json_option, pass_ctx, show_progress
from facegate.errors import FacegateError

PASSPHRASE_ENV = "FACEGATE_EXPORT_PASSPHRASE"


def _outcome_dict(outcome) -> dict:  # type: ignore[no-untyped-def]
    return {
        "student_id": outcome.student_id,
        "enrolled": outcome.error is None,
        "templates": outcome.stored,
        "photos": len(outcome.photos),
        "refused": [
            {"photo": str(p.path), "code": p.code, "message": p.message} for p in outcome.refused
        ],
        "error": outcome.error,
    }


@click.command()
@click.option("--id", "student_id", help="Student id (letters, digits, _ . @ -).")
@click.option("--name", help="Student name (stored encrypted).")
@click.option(
    "--from-dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Enrol every sub-folder of this folder as one student (folder name = id).",
)
@click.argument("photos", nargs=-1, type=click.Path(path_type=Path))
@json_option
@pass_ctx
def enroll(
    ctx: Context,
    student_id: str | None,
    name: str | None,
    from_dir: Path | None,
    photos: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Enrol a student from photos (or folders of photos), or many with --from-dir.

    Each photo passes the quality gate (one face, size, sharpness, pose, open eyes) or is
    refused with its reason; enrolment goes on with the rest. Only embeddings are stored.
    """
    from facegate.identity.enrolment import Enroller, expand_photos, students_in
    from facegate.identity.gallery import open_configured_gallery
    from facegate.vision.pipeline import FacePipeline
    from facegate.vision.quality import QualityGate

    if from_dir is not None and (student_id or name or photos):
        raise click.UsageError("use either --from-dir ROOT or --id/--name with PHOTOS, not both")
    if from_dir is None and not (student_id and name and photos):
        raise click.UsageError("give --id, --name and at least one PHOTO (or --from-dir ROOT)")
    jobs = (
        students_in(from_dir)
        if from_dir is not None
        else [(student_id, name, expand_photos(photos))]  # type: ignore[list-item]
    )
    pipeline = FacePipeline.from_settings(ctx.settings, detector="mtcnn")
    enroller = Enroller(pipeline, QualityGate(ctx.settings.quality))
    say = (lambda _line: None) if as_json else tqdm.write
    outcomes = []
    total = sum(len(p) for _, _, p in jobs)
    bar = tqdm(
        total=total, unit="photo", desc="enrolling", leave=False, disable=not show_progress(as_json)
    )
    with open_configured_gallery(
        ctx.settings.paths, pipeline.embedder.name, pipeline.embedder.dim, create=True
    ) as gallery:
        for sid, sname, files in jobs:
            outcome = enroller.enroll(gallery, sid, sname, files, on_photo=lambda _: bar.update())
            outcomes.append(outcome)
            for p in outcome.refused:
                say(f"  refused {p.path}: {p.code}: {p.message}")
            if outcome.error:
                say(f"{sid}: NOT enrolled: {outcome.error}")
            else:
                say(
                    f"{sid}: enrolled {outcome.stored} template(s) from {len(outcome.photos)} "
                    f"photo(s), {len(outcome.refused)} refused"
                )
    bar.close()
    failed = sum(o.error is not None for o in outcomes)
    if as_json:
        echo_json({"students": [_outcome_dict(o) for o in outcomes], "failed": failed})
    if failed:
        raise FacegateError(f"{failed} of {len(jobs)} student(s) could not be enrolled")


@click.group()
def gallery() -> None:
    """List, remove, export, import and calibrate enrolled students."""


@gallery.command("list")
@json_option
@pass_ctx
def gallery_list(ctx: Context, as_json: bool) -> None:
    """List enrolled students (id, name, templates, date)."""
    from facegate.identity.gallery import open_configured_gallery

    with open_configured_gallery(ctx.settings.paths) as g:
        students = g.students()
        calibration = g.calibration()
        embedder = g.embedder
    if as_json:
        echo_json(
            {
                "embedder": embedder,
                "calibration": None if calibration is None else calibration.__dict__,
                "students": [s.__dict__ for s in students],
            }
        )
        return
    click.echo(f"{len(students)} student(s), {embedder} templates")
    for s in students:
        click.echo(
            f"  {s.student_id:<24} {s.name:<32} {s.n_templates:>3} template(s)  {s.enrolled_at}"
        )


@gallery.command("remove")
@click.argument("student_id")
@pass_ctx
def gallery_remove(ctx: Context, student_id: str) -> None:
    """Remove a student and all their templates."""
    from facegate.identity.gallery import open_configured_gallery

    with open_configured_gallery(ctx.settings.paths) as g:
        if not g.remove(student_id):
            raise FacegateError(f"no student {student_id!r} in the gallery")
    click.echo(f"removed {student_id}")


def _passphrase(confirm: bool) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    return click.prompt("export passphrase", hide_input=True, confirmation_prompt=confirm, err=True)


@gallery.command("export")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@pass_ctx
def gallery_export(ctx: Context, out: Path) -> None:
    """Write the gallery to OUT, encrypted with a passphrase (or $FACEGATE_EXPORT_PASSPHRASE)."""
    from facegate.identity.gallery import open_configured_gallery
    from facegate.identity.transfer import export_gallery

    with open_configured_gallery(ctx.settings.paths) as g:
        n = export_gallery(g, out, _passphrase(confirm=True))
    click.echo(f"exported {n} student(s) to {out} (encrypted)")


@gallery.command("import")
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@pass_ctx
def gallery_import(ctx: Context, bundle: Path) -> None:
    """Add the students of an exported gallery to this one."""
    from facegate.identity.gallery import open_configured_gallery
    from facegate.identity.transfer import import_students, read_bundle

    passphrase = _passphrase(confirm=False)
    data = read_bundle(bundle, passphrase)
    with open_configured_gallery(
        ctx.settings.paths, data["embedder"], data["dim"], create=True
    ) as g:
        n = import_students(g, data)
    click.echo(f"imported {n} student(s) from {bundle}")


@gallery.command("calibrate")
@click.option("--target-far", type=click.FloatRange(0.0, 0.5), default=0.01, show_default=True)
@click.option(
    "--margin",
    type=click.FloatRange(0.0, 1.99),
    help="Margin to calibrate with (default: matcher.margin, else the shipped one).",
)
@click.option("--reset", is_flag=True, help="Forget the calibration; use the shipped rule.")
@json_option
@pass_ctx
def gallery_calibrate(
    ctx: Context, target_far: float, margin: float | None, reset: bool, as_json: bool
) -> None:
    """Re-calibrate the open-set threshold on the enrolled students for a target FAR.

    Each enrolled student plays the stranger against the whole rest of the gallery, as the
    door decides (nearest student, margin); the threshold lets at most TARGET_FAR of those
    strangers in. The FAR is per probe, so it holds at this gallery's size; a smaller roster
    gets a threshold raised by the shipped slope per e-fold fewer students.
    """
    from facegate.identity.gallery import open_configured_gallery
    from facegate.identity.gallery_calibration import calibrate_gallery
    from facegate.identity.thresholds import shipped_rule

    with open_configured_gallery(ctx.settings.paths) as g:
        if reset:
            g.set_calibration(None)
            shipped = shipped_rule(g.embedder)
            if as_json:
                echo_json({"calibration": None, "shipped": shipped.__dict__})
            else:
                click.echo(
                    f"calibration removed; shipped threshold {shipped.threshold}, "
                    f"margin {shipped.margin}"
                )
            return
        result = calibrate_gallery(g, target_far, margin, ctx.settings.matcher.margin)
    choice = result.choice
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(
            f"threshold {choice.threshold:.4f} (shipped {result.shipped.threshold:.4f}), margin "
            f"{choice.margin:.4f}, from {choice.n_impostor} stranger and {choice.n_genuine} "
            f"genuine probes of {result.students} students; FAR {choice.far:.2%}, "
            + ("FRR n/a" if choice.frr is None else f"FRR {choice.frr:.2%}")
        )
    if choice.limited_by_sample:
        click.echo(
            f"warning: {choice.n_impostor} stranger probes cannot measure a FAR of "
            f"{target_far:g}; the threshold sits just below the closest stranger. Enrol more "
            "students or keep the shipped rule (gallery calibrate --reset).",
            err=True,
        )
