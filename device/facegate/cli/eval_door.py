"""``facegate eval`` on video and on the real door: liveness, binding, face switch, door tables.

Each command is thin over ``facegate.evaluation``; ``eval.py`` adds them to the group.
"""

from __future__ import annotations

from pathlib import Path

import click

from facegate.cli.root import Context, emit, json_option, pass_ctx, show_progress

_clips_option = click.option(
    "--clips",
    required=True,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Folder the annotation keys are relative to.",
)
_annotations_option = click.option(
    "--annotations",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="JSON: clip path -> blinks/uncertain/closures frame intervals (null: not annotated).",
)


@click.command("liveness")
@_clips_option
@_annotations_option
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
@json_option
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
        raise click.BadParameter(
            f"not a list of integers: {attack_face_px!r}", param_hint="--attack-face-px"
        ) from None
    if any(not 20 <= v <= 480 for v in sizes):
        raise click.BadParameter("face sizes must be 20..480 px", param_hint="--attack-face-px")
    if sizes and not attacks:
        raise click.BadParameter(
            "needs --attacks (the stills to scale)", param_hint="--attack-face-px"
        )
    report = evaluate_liveness(
        clips, annotations, list(attacks), ctx.settings.liveness, jobs, hand_wave, sizes
    )
    emit(report, format_report, as_json)


@click.command("binding")
@_clips_option
@_annotations_option
@click.option(
    "--embedder",
    type=click.Choice(["facenet", "facenet-float", "dlib"]),
    help="Default: embedder.name from the config (facenet).",
)
@json_option
@pass_ctx
def eval_binding(
    ctx: Context, clips: Path, annotations: Path, embedder: str | None, as_json: bool
) -> None:
    """One person per attempt: a blink's frame against the best frames, same person and not.

    The cosine distance from each annotated blink's witness frame to the mean of its clip's
    best frames (same person) and of every other clip's (different people): where
    access.binding_limit goes (docs/liveness.md).
    """
    from facegate.evaluation.binding import evaluate_binding, format_binding
    from facegate.vision.pipeline import FacePipeline

    pipeline = FacePipeline.from_settings(ctx.settings, embedder=embedder)
    emit(evaluate_binding(clips, annotations, pipeline), format_binding, as_json)


@click.command("face-switch")
@click.option(
    "--runs", type=click.IntRange(1, 1000), default=50, show_default=True, help="Attack runs."
)
@click.option(
    "--controls",
    type=click.IntRange(0, 100),
    default=6,
    show_default=True,
    help="Genuine runs of the enrolled student.",
)
@json_option
@pass_ctx
def eval_face_switch(ctx: Context, runs: int, controls: int, as_json: bool) -> None:
    """The face-switch attack on the real door (mock pins, lockstep): a live stranger blinks,
    then holds up an enrolled student's photo; and genuine runs of that student."""
    from facegate.evaluation.face_switch import evaluate_face_switch, format_face_switch

    report = evaluate_face_switch(
        ctx.settings, runs=runs, controls=controls, progress=show_progress(as_json)
    )
    emit(report, format_face_switch, as_json)


@click.command("door")
@click.argument(
    "clips", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False)
)
@click.option(
    "--enrolled",
    type=click.IntRange(1, 1000),
    help="How many of the CLIPS' people (the first ones) are enrolled; default: half.",
)
@json_option
@pass_ctx
def eval_door(ctx: Context, clips: tuple[Path, ...], enrolled: int | None, as_json: bool) -> None:
    """The paper's four door tables from the real door: recognised and unrecognised people,
    each live (their clip) and as a printed photo held in a hand."""
    from facegate.evaluation.door_tables import evaluate_door, format_door_tables

    count = enrolled if enrolled is not None else max(1, len(clips) // 2)
    report = evaluate_door(ctx.settings, list(clips), count, progress=show_progress(as_json))
    emit(report, format_door_tables, as_json)


COMMANDS = (eval_liveness, eval_binding, eval_face_switch, eval_door)
