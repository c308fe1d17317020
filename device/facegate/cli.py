"""The ``facegate`` command line: enrolment, gallery admin, identification, evaluation, demo."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import click
from tqdm import tqdm

from facegate import __version__
from facegate.config import Settings, load_settings
from facegate.config.mqtt import MqttConfig
from facegate.errors import FacegateError

PASSPHRASE_ENV = "FACEGATE_EXPORT_PASSPHRASE"


class Context:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


pass_ctx = click.make_pass_decorator(Context)


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="FACEGATE_CONFIG",
    help="TOML configuration file (default: built-in defaults).",
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
    settings = load_settings(config_path)
    if data_dir is not None:
        settings = settings.model_copy(
            update={"paths": settings.paths.model_copy(update={"data_dir": data_dir})}
        )
    ctx.obj = Context(settings)


# -- configuration and models -----------------------------------------------------------------


@cli.command("check-config")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def check_config(file: Path) -> None:
    """Validate a configuration file and print the settings it gives."""
    settings = load_settings(file)
    click.echo(json.dumps(settings.model_dump(mode="json"), indent=2))
    roster = settings.access.roster_file
    if roster is not None:
        from facegate.access.roster import load_roster

        sessions = load_roster(roster).session
        click.echo(f"{roster}: valid, {len(sessions)} sessions", err=True)
    click.echo(f"{file}: valid", err=True)


@cli.command("run")
@pass_ctx
def run(ctx: Context) -> None:
    """Run the door service (systemd starts this; see systemd/README.md)."""
    from facegate.door import DoorService
    from facegate.service.logging_setup import setup_logging

    setup_logging(ctx.settings.service.log_level)
    code = DoorService(ctx.settings).run()
    if code:
        sys.exit(code)


@cli.command("check-models")
@pass_ctx
def check_models(ctx: Context) -> None:
    """Verify size and sha256 of every model file facegate loads."""
    from facegate.vision import model_files as mf

    models_dir = ctx.settings.paths.models_dir
    for model in mf.SHIPPED_MODELS:
        path = mf.verify(model, models_dir)
        click.echo(f"ok  {model.name:<40} {model.sha256[:16]}  {path}")


# -- enrolment and gallery -------------------------------------------------------------------


def _enroller(settings: Settings):
    from facegate.identity.enrolment import Enroller
    from facegate.vision.pipeline import FacePipeline
    from facegate.vision.quality import QualityGate

    pipeline = FacePipeline.from_settings(settings, detector="mtcnn")
    return pipeline, Enroller(pipeline, QualityGate(settings.quality))


@cli.command()
@click.option("--id", "student_id", help="Student id (letters, digits, _ . @ -).")
@click.option("--name", help="Student name (stored encrypted).")
@click.option(
    "--from-dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Enrol every sub-folder of this folder as one student (folder name = id).",
)
@click.argument("photos", nargs=-1, type=click.Path(path_type=Path))
@pass_ctx
def enroll(
    ctx: Context,
    student_id: str | None,
    name: str | None,
    from_dir: Path | None,
    photos: tuple[Path, ...],
) -> None:
    """Enrol a student from photos (or folders of photos), or many with --from-dir.

    Each photo passes the quality gate (one face, size, sharpness, pose, open eyes) or is
    refused with its reason; enrolment goes on with the rest. Only embeddings are stored.
    """
    from facegate.identity.enrolment import expand_photos, students_in
    from facegate.identity.gallery import open_configured_gallery

    if from_dir is not None and (student_id or name or photos):
        raise click.UsageError("use either --from-dir ROOT or --id/--name with PHOTOS, not both")
    if from_dir is None and not (student_id and name and photos):
        raise click.UsageError("give --id, --name and at least one PHOTO (or --from-dir ROOT)")
    jobs = (
        students_in(from_dir)
        if from_dir is not None
        else [(student_id, name, expand_photos(photos))]  # type: ignore[list-item]
    )
    pipeline, enroller = _enroller(ctx.settings)
    failed = 0
    total_photos = sum(len(p) for _, _, p in jobs)
    with (
        open_configured_gallery(
            ctx.settings.paths, pipeline.embedder.name, pipeline.embedder.dim, create=True
        ) as gallery,
        tqdm(total=total_photos, unit="photo", desc="enrolling", leave=False, disable=None) as bar,
    ):
        for sid, sname, files in jobs:
            outcome = enroller.enroll(gallery, sid, sname, files, on_photo=lambda _: bar.update())
            for p in outcome.refused:
                tqdm.write(f"  refused {p.path}: {p.code}: {p.message}")
            if outcome.error:
                failed += 1
                tqdm.write(f"{sid}: NOT enrolled: {outcome.error}")
            else:
                tqdm.write(
                    f"{sid}: enrolled {outcome.stored} template(s) from {len(outcome.photos)} "
                    f"photo(s), {len(outcome.refused)} refused"
                )
    if failed:
        raise FacegateError(f"{failed} of {len(jobs)} student(s) could not be enrolled")


@cli.group()
def gallery() -> None:
    """List, remove, export, import and calibrate enrolled students."""


@gallery.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def gallery_list(ctx: Context, as_json: bool) -> None:
    """List enrolled students (id, name, templates, date)."""
    from facegate.identity.gallery import open_configured_gallery

    with open_configured_gallery(ctx.settings.paths) as g:
        students = g.students()
        calibration = g.calibration()
        embedder = g.embedder
    if as_json:
        click.echo(
            json.dumps(
                {
                    "embedder": embedder,
                    "calibration": None if calibration is None else calibration.__dict__,
                    "students": [s.__dict__ for s in students],
                },
                indent=2,
            )
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


@cli.group()
def totp() -> None:
    """The TOTP second factor: enrol a student's authenticator app, list, remove."""


def _second_factor(ctx: Context, create: bool = False):  # type: ignore[no-untyped-def]
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
    """Create a student's TOTP secret; show it as a QR code for their authenticator app."""
    import qrcode

    from facegate.identity.second_factor import provisioning_uri

    with _second_factor(ctx, create=True) as store:
        secret = store.enroll(student_id, replace_existing=replace)
    uri = provisioning_uri(secret, student_id, f"facegate {ctx.settings.device.id}")
    qr = qrcode.QRCode(border=4)  # the standard quiet zone: 2 fails some readers
    qr.add_data(uri)
    qr.make(fit=True)
    terminal = io.StringIO()
    qr.print_ascii(out=terminal, invert=True)
    click.echo(terminal.getvalue(), nl=False)
    out = qr_png or Path(f"{student_id}-totp.png")
    image = qr.make_image()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        image.save(fh)
    click.echo(uri)
    click.echo(
        f"enrolled {student_id}: scan the code above or {out} (readable by you only; delete it "
        "once scanned: it holds the secret)"
    )


@totp.command("list")
@pass_ctx
def totp_list(ctx: Context) -> None:
    """Students with a TOTP secret."""
    with _second_factor(ctx) as store:
        ids = store.enrolled()
    click.echo(f"{len(ids)} student(s) with a TOTP secret")
    for sid in ids:
        click.echo(f"  {sid}")


@totp.command("remove")
@click.argument("student_id")
@pass_ctx
def totp_remove(ctx: Context, student_id: str) -> None:
    with _second_factor(ctx) as store:
        if not store.remove(student_id):
            raise FacegateError(f"{student_id!r} has no TOTP secret")
    click.echo(f"removed the TOTP secret of {student_id}")


@cli.command()
@click.argument("session_id")
@click.option(
    "--csv", "as_csv", is_flag=True, help="CSV: session_id, student_id, entered_at, attempt_id."
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write to a file.")
@pass_ctx
def attendance(ctx: Context, session_id: str, as_csv: bool, out: Path | None) -> None:
    """Who entered an exam session, and when."""
    from facegate.access.attendance import AttendanceLog

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
    if out is not None:
        out.write_text(text)
        click.echo(f"wrote {len(rows)} entr{'y' if len(rows) == 1 else 'ies'} to {out}")
    elif as_csv:
        click.echo(text, nl=False)
    else:
        click.echo(f"{session_id}: {len(rows)} entr{'y' if len(rows) == 1 else 'ies'}")
        for _sid, student, at, _attempt in rows:
            click.echo(f"  {at}  {student}")


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
@pass_ctx
def gallery_calibrate(ctx: Context, target_far: float, margin: float | None, reset: bool) -> None:
    """Re-calibrate the open-set threshold on the enrolled students for a target FAR.

    Each enrolled student plays the stranger against the whole rest of the gallery, as the
    door decides (nearest student, margin); the threshold lets at most TARGET_FAR of those
    strangers in. The FAR is per probe, so it holds at this gallery's size; a smaller roster
    gets a threshold raised by the shipped slope per e-fold fewer students.
    """
    from datetime import UTC, datetime

    from facegate.identity.calibration import choose_threshold
    from facegate.identity.gallery import CALIBRATION_RULE, Calibration, open_configured_gallery
    from facegate.identity.thresholds import shipped_rule

    with open_configured_gallery(ctx.settings.paths) as g:
        shipped = shipped_rule(g.embedder)
        if reset:
            g.set_calibration(None)
            click.echo(
                f"calibration removed; shipped threshold {shipped.threshold}, "
                f"margin {shipped.margin}"
            )
            return
        if margin is None:
            configured = ctx.settings.matcher.margin
            margin = shipped.margin if configured is None else configured
        labels, vectors = g.templates()
        if len(set(labels)) < 2:
            raise FacegateError("calibration needs at least two enrolled students")
        choice = choose_threshold(labels, vectors, target_far, margin)
        g.set_calibration(
            Calibration(
                threshold=choice.threshold,
                target_far=target_far,
                n_impostor=choice.n_impostor,
                n_genuine=choice.n_genuine,
                expected_frr=choice.frr,
                calibrated_at=datetime.now(UTC).isoformat(timespec="seconds"),
                margin=margin,
                rule=CALIBRATION_RULE,
                slope=shipped.slope,
                reference_size=max(len(set(labels)) - 1, 1),
            )
        )
    click.echo(
        f"threshold {choice.threshold:.4f} (shipped {shipped.threshold:.4f}), margin "
        f"{margin:.4f}, from {choice.n_impostor} stranger and {choice.n_genuine} genuine "
        f"probes of {len(set(labels))} students; FAR {choice.far:.2%}, "
        + ("FRR n/a" if choice.frr is None else f"FRR {choice.frr:.2%}")
    )
    if choice.limited_by_sample:
        click.echo(
            f"warning: {choice.n_impostor} stranger probes cannot measure a FAR of "
            f"{target_far:g}; the threshold sits just below the closest stranger. Enrol more "
            "students or keep the shipped rule (gallery calibrate --reset).",
            err=True,
        )


# -- identification --------------------------------------------------------------------------


@cli.command()
@click.argument("photos", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--candidates", help="Comma-separated student ids to search among (a roster).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def identify(ctx: Context, photos: tuple[Path, ...], candidates: str | None, as_json: bool) -> None:
    """Identify the faces in photos against the gallery (no liveness: photos are not live)."""
    from facegate.identity.enrolment import expand_photos
    from facegate.identity.gallery import open_configured_gallery
    from facegate.identity.recognizer import Recognizer
    from facegate.vision.image_io import load_image
    from facegate.vision.pipeline import FacePipeline

    pipeline = FacePipeline.from_settings(ctx.settings)
    with open_configured_gallery(
        ctx.settings.paths, pipeline.embedder.name, pipeline.embedder.dim
    ) as g:
        recognizer = Recognizer(pipeline, g, ctx.settings)
    roster = [c.strip() for c in candidates.split(",") if c.strip()] if candidates else None
    rows = []
    for path in expand_photos(photos):
        image = load_image(path)
        results = recognizer.identify_image(image, roster)
        if not results:
            rows.append({"photo": str(path), "decision": "no_face"})
        for r in results:
            b = r.detection.box
            row = {"photo": str(path), "box": [round(b.x), round(b.y), round(b.w), round(b.h)]}
            if r.match is None:
                row["decision"] = "face_not_confirmed"
            else:
                row.update(
                    decision=r.match.reason,
                    student_id=r.match.student_id,
                    candidate_id=r.match.candidate_id,
                    distance=round(r.match.distance, 4),
                    threshold=round(r.match.threshold, 4),
                    nearest_id=r.match.nearest_id,
                    margin=None if r.match.margin is None else round(r.match.margin, 4),
                )
            rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        extra = ""
        if "distance" in row:
            extra = (
                f" {row['candidate_id']} distance {row['distance']:.3f} "
                f"(threshold {row['threshold']:.3f})"
            )
        click.echo(f"{row['photo']}: {row['decision']}{extra}")


# -- evaluation ------------------------------------------------------------------------------


@cli.group("eval")
def eval_group() -> None:
    """Measure recognition and liveness on labelled data (the README's figures)."""


_embedder_option = click.option(
    "--embedder",
    type=click.Choice(["facenet", "facenet-float", "dlib"]),
    help="Default: embedder.name from the config (facenet).",
)


_cache_option = click.option(
    "--cache",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="FACEGATE_EVAL_CACHE",
    help="Keep embeddings here (outside the repository) to skip re-embedding the same photos.",
)


def _mtcnn_key(settings: Settings) -> str:
    """What decides an evaluation photo's face: MTCNN's settings (part of the cache key)."""
    d = settings.detection
    return f"{d.mtcnn_min_face_px}|{tuple(d.mtcnn_thresholds)}"


def _threshold(settings: Settings, embedder: str, override: float | None) -> float:
    """The threshold for comparing two faces (one candidate: the shipped rule's largest)."""
    from facegate.identity.thresholds import shipped_rule

    if override is not None:
        return override
    return settings.matcher.threshold or shipped_rule(embedder).threshold_for(1)


def _rule(settings: Settings, embedder: str, threshold: float | None, margin: float | None):  # type: ignore[no-untyped-def]
    """The shipped rule of ``embedder`` with the config's, then the command line's, overrides."""
    from facegate.identity.matcher import OpenSetRule
    from facegate.identity.thresholds import shipped_rule

    rule = shipped_rule(embedder)
    fixed = threshold if threshold is not None else settings.matcher.threshold
    if fixed is not None:  # one threshold whatever the number of students
        rule = OpenSetRule(fixed, rule.margin)
    if margin is None:
        margin = settings.matcher.margin
    if margin is not None:
        rule = OpenSetRule(
            rule.threshold, margin, rule.slope, rule.reference_size, rule.max_threshold
        )
    return rule


@eval_group.command("identities")
@click.argument(
    "directory", required=False, type=click.Path(path_type=Path, file_okay=False, exists=True)
)
@click.option(
    "--groups",
    "groups_dir",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="A folder of groups (populations), each a folder of identity folders: figures per "
    "group, and overall.",
)
@_embedder_option
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--rotations",
    type=click.IntRange(1, 10),
    default=5,
    show_default=True,
    help="Rotations of the 80/20 split (1 = the paper's single split).",
)
@click.option(
    "--sizes",
    default="10,50,100",
    show_default=True,
    help="Smaller gallery sizes to report besides the whole set (comma-separated).",
)
@click.option("--threshold", type=float, help="Override the shipped threshold.")
@click.option("--margin", type=click.FloatRange(0.0, 1.99), help="Override the shipped margin.")
@_cache_option
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def eval_identities(
    ctx: Context,
    directory: Path | None,
    groups_dir: Path | None,
    embedder: str | None,
    seed: int,
    rotations: int,
    sizes: str,
    threshold: float | None,
    margin: float | None,
    cache: Path | None,
    as_json: bool,
) -> None:
    """Closed-set accuracy (paper's Table 1) and open-set FAR/FRR on a folder per person,
    for the whole set and for smaller galleries drawn from it."""
    from facegate.evaluation.identity_report import format_report
    from facegate.evaluation.identity_run import run_identities
    from facegate.vision.pipeline import FacePipeline

    try:
        size_list = [int(x) for x in sizes.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"{sizes!r} is not a comma-separated list of sizes") from None
    pipeline = FacePipeline.from_settings(ctx.settings, detector="mtcnn", embedder=embedder)
    rule = _rule(ctx.settings, pipeline.embedder.name, threshold, margin)
    report = run_identities(
        pipeline,
        rule,
        directory,
        groups_dir,
        seed=seed,
        rotations=rotations,
        sizes=size_list,
        progress=not as_json,
        cache=cache,
        detection=_mtcnn_key(ctx.settings),
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(format_report(report, per_person=report.n_people <= 30))


@eval_group.command("liveness")
@click.option(
    "--clips",
    required=True,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Folder the annotation keys are relative to.",
)
@click.option(
    "--annotations",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="JSON: clip path -> blinks/uncertain/closures frame intervals (null: not annotated).",
)
@click.option(
    "--attacks",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="Attack stills/videos or folders of them (repeatable). A still is shown as a photo "
    "held in a hand for 5 s.",
)
@click.option(
    "--hand-wave",
    is_flag=True,
    help="Also show every still with a finger passed over its eyes twice.",
)
@click.option(
    "--attack-face-px",
    default="",
    help="Comma-separated face sizes in px, e.g. 80,100,120: also show every still scaled so "
    "that its face is that small (a small print held up).",
)
@click.option("--jobs", type=click.IntRange(1, 64), help="Processes for the attacks.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def eval_liveness(
    ctx: Context,
    clips: Path,
    annotations: Path,
    attacks: tuple[Path, ...],
    hand_wave: bool,
    attack_face_px: str,
    jobs: int | None,
    as_json: bool,
) -> None:
    """Blink recall/precision, genuine pass rate, replay analysis and attack accept rate."""
    from facegate.evaluation.liveness import evaluate_liveness, format_report

    try:
        sizes = tuple(int(v) for v in attack_face_px.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"not a list of integers: {attack_face_px!r}") from None
    if any(not 20 <= v <= 480 for v in sizes):
        raise click.BadParameter("face sizes must be 20..480 px", param_hint="--attack-face-px")
    if sizes and not attacks:
        raise click.BadParameter(
            "needs --attacks (the stills to scale)", param_hint="--attack-face-px"
        )
    report = evaluate_liveness(
        clips, annotations, list(attacks), ctx.settings.liveness, jobs, hand_wave, sizes
    )
    click.echo(json.dumps(report, indent=2) if as_json else format_report(report))


@eval_group.command("pairs")
@click.option(
    "--pairs", "pairs_csv", required=True, type=click.Path(path_type=Path, dir_okay=False)
)
@click.option(
    "--images", required=True, type=click.Path(path_type=Path, file_okay=False, exists=True)
)
@_embedder_option
@click.option(
    "--compare",
    multiple=True,
    type=click.Choice(["facenet", "facenet-float", "dlib"]),
    help="Also evaluate these embedders (for the plot and a side-by-side table).",
)
@click.option("--threshold", type=float, help="Override the shipped threshold.")
@click.option("--plot", type=click.Path(path_type=Path, dir_okay=False), help="Write a ROC PNG.")
@_cache_option
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def eval_pairs(
    ctx: Context,
    pairs_csv: Path,
    images: Path,
    embedder: str | None,
    compare: tuple[str, ...],
    threshold: float | None,
    plot: Path | None,
    cache: Path | None,
    as_json: bool,
) -> None:
    """Face verification on labelled pairs: AUC, TAR@FAR and accuracy at the threshold."""
    from facegate.evaluation.embedding import embed_photos
    from facegate.evaluation.pairs import evaluate_pairs, format_report, plot_roc, read_pairs
    from facegate.vision.pipeline import FacePipeline

    pairs = read_pairs(pairs_csv, images)
    names = [embedder or ctx.settings.embedder.name] + [c for c in compare if c != embedder]
    paths = sorted({p for pair in pairs for p in (pair.first, pair.second)})
    reports, curves = [], {}
    for name in dict.fromkeys(names):
        pipeline = FacePipeline.from_settings(ctx.settings, detector="mtcnn", embedder=name)
        embeddings = embed_photos(pipeline, paths, not as_json, cache, _mtcnn_key(ctx.settings))
        report, same, dist = evaluate_pairs(
            pairs,
            embeddings,
            name,
            _threshold(ctx.settings, name, threshold if name == names[0] else None),
            str(pairs_csv),
        )
        reports.append(report)
        curves[name] = (same, dist)
    if plot is not None:
        plot_roc(curves, plot, f"{pairs_csv.name}: {len(pairs)} pairs")
    if as_json:
        out = reports[0].to_dict()
        if len(reports) > 1:
            out["compared"] = [r.to_dict() for r in reports[1:]]
        click.echo(json.dumps(out, indent=2))
    else:
        click.echo("\n\n".join(format_report(r) for r in reports))
        if plot is not None:
            click.echo(f"\nROC written to {plot}")


@eval_group.command("make-pairs")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--groups", is_flag=True, help="DIRECTORY is a folder of groups: pairs within each group."
)
def eval_make_pairs(directory: Path, out: Path, groups: bool) -> None:
    """Write every pair of photos of a folder-per-person set as a pairs CSV."""
    from facegate.evaluation.dataset import scan_identities
    from facegate.evaluation.groups import scan_groups
    from facegate.evaluation.pairs import write_all_pairs, write_group_pairs

    if groups:
        n = write_group_pairs(directory, scan_groups(directory), out)
    else:
        n = write_all_pairs(scan_identities(directory), out)
    click.echo(f"wrote {n} pairs to {out}")


# -- MQTT and remote commands ------------------------------------------------------------------


@cli.group()
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


def _broker_settings(settings: Settings, broker: str | None) -> MqttConfig:
    config = settings.mqtt
    if broker is None:
        return config
    host, _, port = broker.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{broker!r} is not HOST:PORT", param_hint="--broker")
    return config.model_copy(update={"host": host, "port": int(port)})


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
@click.option("--seconds", type=click.FloatRange(0.5, 60.0), help="unlock: how long.")
@click.option("--valid-s", type=click.IntRange(60, 86400), default=3600, show_default=True)
@click.option("--timeout", type=click.FloatRange(0.5, 120.0), default=10.0, show_default=True)
@click.option(
    "--operator",
    default=lambda: _local_user(),
    show_default="the local user",
    help="Who asks: signed into the command, recorded in the door's audit event.",
)
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
) -> None:
    """Sign and send a command, print the door's answer.

    \b
    facegate mqtt command unlock [--seconds 5]
    facegate mqtt command lockdown on|off
    facegate mqtt command reload [gallery|roster|all]
    facegate mqtt command override STUDENT_ID [--valid-s 3600]   (prints the one-time code)
    """
    from facegate.common.key_files import read_key_file
    from facegate.mqtt.operator import send_command

    s = ctx.settings
    path = key_file or s.mqtt.command_key_file
    if path is None:
        raise FacegateError("no command key: pass --key or set mqtt.command_key_file")
    args: dict = {}
    if name == "unlock" and seconds is not None:
        args["seconds"] = seconds
    elif name == "lockdown":
        if value not in ("on", "off"):
            raise click.BadParameter("lockdown needs on or off", param_hint="VALUE")
        args["on"] = value == "on"
    elif name == "reload":
        args["what"] = value or "all"
    elif name == "override":
        if not value:
            raise click.BadParameter("override needs a student id", param_hint="VALUE")
        args = {"student_id": value, "valid_s": valid_s}
    answer = send_command(
        _broker_settings(s, broker),
        device_id or s.device.id,
        read_key_file(path),
        name,
        args,
        timeout,
        operator=operator,
    )
    code = (answer.get("result") or {}).get("code")
    verdict = "accepted" if answer["accepted"] else f"REFUSED ({answer['reason']})"
    click.echo(f"{answer['device_id']}: {name} {verdict}: {answer['detail']}")
    if code:
        expires = answer["result"]["expires"]
        click.echo(f"one-time override code for {value}: {code} (valid until {expires})")
    if not answer["accepted"]:
        raise SystemExit(1)


# -- benchmarks and demo ---------------------------------------------------------------------


class _BenchGroup(click.Group):
    """``facegate bench VIDEO...`` (or options first) runs ``facegate bench door VIDEO...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        first = args[0] if args else ""
        if first and first not in self.commands and first not in ctx.help_option_names:
            if not first.startswith("-") and not Path(first).exists():
                raise click.UsageError(
                    f"{first!r} is neither a bench command ({', '.join(self.commands)}) "
                    "nor a video file"
                )
            args = ["door", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_BenchGroup)
def bench() -> None:
    """Speed and memory benchmarks (figures for docs/benchmarks.md).

    `facegate bench [--peer] [--json] [VIDEO...]` is short for `facegate bench door ...`.
    """


@bench.command("door")
@click.argument("videos", nargs=-1, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--peer", is_flag=True, help="Also time dlib HOG + 68 points + ResNet per frame.")
@click.option(
    "--peer-upsample",
    type=click.IntRange(0, 2),
    default=1,
    show_default=True,
    help="The peer's HOG upsampling (face_recognition's default is 1).",
)
@click.option("--runs", type=click.IntRange(1, 50), default=3, show_default=True)
@click.option(
    "--blink-clip",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Annotated clip for blink to relay (default: ../shared/data/blink/liveportrait/d18.mp4).",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def bench_door(
    ctx: Context,
    videos: tuple[Path, ...],
    peer: bool,
    peer_upsample: int,
    runs: int,
    blink_clip: Path | None,
    as_json: bool,
) -> None:
    """Per-frame path (fps, stage p50/p95 at 640x480), blink to relay on the real door, RSS.

    VIDEO defaults to ../shared/data/blink/liveportrait/*.mp4. With --peer the same frames go
    through a naive per-frame pipeline too, interleaved with ours.
    """
    from facegate.bench.door_loop import BLINK, format_door, measure_door

    clip = blink_clip or BLINK / "liveportrait" / "d18.mp4"
    upsample = peer_upsample if peer else None
    result = measure_door(ctx.settings, list(videos) or None, upsample, runs, clip)
    click.echo(json.dumps(result, indent=2) if as_json else format_door(result))


@bench.command("embed")
@click.option("--rounds", type=click.IntRange(1, 100), default=7, show_default=True)
@click.option("--per-round", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def bench_embed(ctx: Context, rounds: int, per_round: int, as_json: bool) -> None:
    """Per-embedding time of FaceNet int8, FaceNet float and dlib ResNet, side by side."""
    from facegate.bench.embedding_speed import format_speed, measure_embedding_speed

    result = measure_embedding_speed(ctx.settings, rounds, per_round)
    click.echo(json.dumps(result, indent=2) if as_json else format_speed(result))


@bench.command("memory")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def bench_memory(ctx: Context, as_json: bool) -> None:
    """Resident memory of a fresh process that loaded detector, landmarks and embedder."""
    from facegate.bench.memory import format_memory, measure_memory

    result = measure_memory(ctx.settings)
    click.echo(json.dumps(result, indent=2) if as_json else format_memory(result))


@bench.command("gallery")
@click.option(
    "--students",
    "students",
    multiple=True,
    type=click.IntRange(2, 100_000),
    help="Gallery size (repeatable; default 100, 1000 and 5000).",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def bench_gallery(ctx: Context, students: tuple[int, ...], as_json: bool) -> None:
    """Load, reload (in a thread, beside searches), memory and 1:N search time for N students."""
    from facegate.bench.gallery import format_gallery, measure_gallery

    results = [measure_gallery(ctx.settings, n) for n in students or (100, 1000, 5000)]
    if as_json:
        click.echo(json.dumps(results[0] if len(results) == 1 else results, indent=2))
    else:
        click.echo(format_gallery(results))


@bench.command("liveness")
@click.argument(
    "videos", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False)
)
@click.option("--json", "as_json", is_flag=True)
def bench_liveness(videos: tuple[Path, ...], as_json: bool) -> None:
    """Per-frame cost of landmarks + EAR + pose, and of the whole tracked liveness loop."""
    from facegate.bench.liveness_cost import format_liveness_cost, measure_liveness_cost

    result = measure_liveness_cost(list(videos))
    click.echo(json.dumps(result, indent=2) if as_json else format_liveness_cost(result))


@bench.command("frame")
@click.option("--frames", type=click.IntRange(10, 10000), default=200, show_default=True)
@click.option(
    "--video",
    "videos",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Real camera clips to take frames from (default: the demo portraits).",
)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def bench_frame(ctx: Context, frames: int, videos: tuple[Path, ...], as_json: bool) -> None:
    """Per-frame cost of Haar detection + 68 landmarks on frames 640 px wide."""
    from facegate.bench.frame_cost import format_frame_cost, measure_frame_cost

    result = measure_frame_cost(ctx.settings, frames, list(videos) or None)
    click.echo(json.dumps(result, indent=2) if as_json else format_frame_cost(result))


@bench.command("mqtt")
@click.option(
    "--broker",
    help="HOST:PORT of a broker (plain TCP, anonymous). Default: a temporary mosquitto.",
)
@click.option("--events", type=click.IntRange(1, 1_000_000), default=5000, show_default=True)
@click.option("--latency-events", type=click.IntRange(1, 100_000), default=500, show_default=True)
@click.option(
    "--rate",
    type=click.FloatRange(1.0, 1000.0),
    default=20.0,
    show_default=True,
    help="Events per second on each path while latency is measured.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    help="Put the outbox and journal under this folder (default: the system's temp folder).",
)
@click.option("--json", "as_json", is_flag=True)
def bench_mqtt(
    broker: str | None,
    events: int,
    latency_events: int,
    rate: float,
    directory: Path | None,
    as_json: bool,
) -> None:
    """Outbox to broker events/s, and record() to subscriber latency beside plain paho QoS 1."""
    from facegate.bench.mqtt_throughput import format_mqtt, measure_mqtt

    address = None
    if broker is not None:
        host, _, port = broker.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise click.BadParameter(f"{broker!r} is not HOST:PORT", param_hint="--broker")
        address = (host, int(port))
    result = measure_mqtt(address, events, latency_events, rate, directory)
    click.echo(json.dumps(result, indent=2) if as_json else format_mqtt(result))


@cli.command()
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

    setup_logging("ERROR")  # the demo narrates; the service's own log lines would repeat it
    mqtt_config = _broker_settings(ctx.settings, broker) if broker else None
    scenes = run_door_demo(ctx.settings, click.echo, mqtt_config)
    wrong = [s for s in scenes if not s.ok]
    if wrong:
        raise FacegateError(
            "the demo did not reach the expected decisions: "
            + "; ".join(f"{s.label}: expected {s.expected}, got {s.reasons}" for s in wrong)
        )


def main() -> None:
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except FacegateError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    if isinstance(code, int) and code:
        sys.exit(code)


# The proctors' dashboard (its own extra; dashboard/cli.py imports only click at load time).
from facegate.dashboard.cli import dashboard as _dashboard  # noqa: E402

cli.add_command(_dashboard)
