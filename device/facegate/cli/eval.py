"""``facegate eval``: recognition on labelled photos (identities, pairs), and the group that
also holds the liveness and door evaluations (``eval_door``)."""

from __future__ import annotations

from pathlib import Path

import click

from facegate.cli import eval_door
from facegate.cli.root import Context, echo_json, json_option, pass_ctx, show_progress


@click.group("eval")
def eval_group() -> None:
    """Measure recognition and liveness on labelled data (the README's figures)."""


embedder_option = click.option(
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
@embedder_option
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
@json_option
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
    from facegate.evaluation.embedding import detection_key
    from facegate.evaluation.identity_report import format_report
    from facegate.evaluation.identity_run import run_identities
    from facegate.identity.thresholds import rule_with_overrides
    from facegate.vision.pipeline import FacePipeline

    try:
        size_list = [int(x) for x in sizes.split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"{sizes!r} is not a comma-separated list of sizes") from None
    s = ctx.settings
    pipeline = FacePipeline.from_settings(s, detector="mtcnn", embedder=embedder)
    rule = rule_with_overrides(pipeline.embedder.name, s.matcher, threshold, margin)
    report = run_identities(
        pipeline,
        rule,
        directory,
        groups_dir,
        seed=seed,
        rotations=rotations,
        sizes=size_list,
        progress=show_progress(as_json),
        cache=cache,
        detection=detection_key(s.detection),
    )
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(format_report(report, per_person=report.n_people <= 30))


@eval_group.command("pairs")
@click.option(
    "--pairs", "pairs_csv", required=True, type=click.Path(path_type=Path, dir_okay=False)
)
@click.option(
    "--images", required=True, type=click.Path(path_type=Path, file_okay=False, exists=True)
)
@embedder_option
@click.option(
    "--compare",
    multiple=True,
    type=click.Choice(["facenet", "facenet-float", "dlib"]),
    help="Also evaluate these embedders (for the plot and a side-by-side table).",
)
@click.option("--threshold", type=float, help="Override the shipped threshold.")
@click.option("--plot", type=click.Path(path_type=Path, dir_okay=False), help="Write a ROC PNG.")
@_cache_option
@json_option
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
    from facegate.evaluation.embedding import detection_key, embed_photos
    from facegate.evaluation.pairs import evaluate_pairs, format_report, plot_roc, read_pairs
    from facegate.identity.thresholds import pair_threshold
    from facegate.vision.pipeline import FacePipeline

    s = ctx.settings
    pairs = read_pairs(pairs_csv, images)
    names = [embedder or s.embedder.name] + [c for c in compare if c != embedder]
    paths = sorted({p for pair in pairs for p in (pair.first, pair.second)})
    reports, curves = [], {}
    for name in dict.fromkeys(names):
        pipeline = FacePipeline.from_settings(s, detector="mtcnn", embedder=name)
        embeddings = embed_photos(
            pipeline, paths, show_progress(as_json), cache, detection_key(s.detection)
        )
        override = threshold if name == names[0] else None
        report, same, dist = evaluate_pairs(
            pairs, embeddings, name, pair_threshold(name, s.matcher, override), str(pairs_csv)
        )
        reports.append(report)
        curves[name] = (same, dist)
    if plot is not None:
        plot_roc(curves, plot, f"{pairs_csv.name}: {len(pairs)} pairs")
    if as_json:
        out = reports[0].to_dict()
        if len(reports) > 1:
            out["compared"] = [r.to_dict() for r in reports[1:]]
        echo_json(out)
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
@json_option
def eval_make_pairs(directory: Path, out: Path, groups: bool, as_json: bool) -> None:
    """Write every pair of photos of a folder-per-person set as a pairs CSV."""
    from facegate.evaluation.dataset import scan_identities
    from facegate.evaluation.groups import scan_groups
    from facegate.evaluation.pairs import write_all_pairs, write_group_pairs

    if groups:
        n = write_group_pairs(directory, scan_groups(directory), out)
    else:
        n = write_all_pairs(scan_identities(directory), out)
    if as_json:
        echo_json({"pairs": n, "out": str(out)})
    else:
        click.echo(f"wrote {n} pairs to {out}")


for _command in eval_door.COMMANDS:
    eval_group.add_command(_command)
