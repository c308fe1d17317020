"""Speed and memory benchmarks (figures for docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

import click

from facegate.cli.root import Context, echo_json, emit, json_option, pass_ctx, show_progress


class BenchGroup(click.Group):
    """``facegate bench VIDEO...`` (or options first) runs ``facegate bench door VIDEO...``.

    This is only argument parsing (the shorthand the README and ``make bench`` use); the
    benchmarks themselves are in ``facegate.bench``.
    """

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


@click.group(cls=BenchGroup)
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
@json_option
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
    result = measure_door(
        ctx.settings, list(videos) or None, upsample, runs, clip, show_progress(as_json)
    )
    emit(result, format_door, as_json)


@bench.command("embed")
@click.option("--rounds", type=click.IntRange(1, 100), default=7, show_default=True)
@click.option("--per-round", type=click.IntRange(1, 1000), default=10, show_default=True)
@json_option
@pass_ctx
def bench_embed(ctx: Context, rounds: int, per_round: int, as_json: bool) -> None:
    """Per-embedding time of FaceNet int8, FaceNet float and dlib ResNet, side by side."""
    from facegate.bench.embedding_speed import format_speed, measure_embedding_speed

    result = measure_embedding_speed(ctx.settings, rounds, per_round)
    emit(result, format_speed, as_json)


@bench.command("memory")
@json_option
@pass_ctx
def bench_memory(ctx: Context, as_json: bool) -> None:
    """Resident memory of a fresh process that loaded detector, landmarks and embedder."""
    from facegate.bench.memory import format_memory, measure_memory

    result = measure_memory(ctx.settings)
    emit(result, format_memory, as_json)


@bench.command("gallery")
@click.option(
    "--students",
    "students",
    multiple=True,
    type=click.IntRange(2, 100_000),
    help="Gallery size (repeatable; default 100, 1000 and 5000).",
)
@json_option
@pass_ctx
def bench_gallery(ctx: Context, students: tuple[int, ...], as_json: bool) -> None:
    """Load, reload (in a thread, beside searches), memory and 1:N search time for N students."""
    from facegate.bench.gallery import format_gallery, measure_gallery

    results = [measure_gallery(ctx.settings, n) for n in students or (100, 1000, 5000)]
    if as_json:
        echo_json(results[0] if len(results) == 1 else results)
    else:
        click.echo(format_gallery(results))


@bench.command("reload")
@click.option("--students", type=click.IntRange(2, 100_000), default=2000, show_default=True)
@click.option("--rounds", type=click.IntRange(1, 50), default=4, show_default=True)
@click.option(
    "--clip",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="The clip for the frame path (default: ../shared/data/blink/liveportrait/d18.mp4).",
)
@json_option
@pass_ctx
def bench_reload(
    ctx: Context, students: int, rounds: int, clip: Path | None, as_json: bool
) -> None:
    """The door's frame time with and without a gallery reload running beside it."""
    from facegate.bench.door_loop import BLINK
    from facegate.bench.reload_stall import format_reload_stall, measure_reload_stall

    clip = clip or BLINK / "liveportrait" / "d18.mp4"
    result = measure_reload_stall(ctx.settings, clip, students, rounds, show_progress(as_json))
    emit(result, format_reload_stall, as_json)


@bench.command("liveness")
@click.argument(
    "videos", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False)
)
@json_option
def bench_liveness(videos: tuple[Path, ...], as_json: bool) -> None:
    """Per-frame cost of landmarks + EAR + pose, and of the whole tracked liveness loop."""
    from facegate.bench.liveness_cost import format_liveness_cost, measure_liveness_cost

    result = measure_liveness_cost(list(videos))
    emit(result, format_liveness_cost, as_json)


@bench.command("frame")
@click.option("--frames", type=click.IntRange(10, 10000), default=200, show_default=True)
@click.option(
    "--video",
    "videos",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Real camera clips to take frames from (default: the demo portraits).",
)
@json_option
@pass_ctx
def bench_frame(ctx: Context, frames: int, videos: tuple[Path, ...], as_json: bool) -> None:
    """Per-frame cost of Haar detection + 68 landmarks on frames 640 px wide."""
    from facegate.bench.frame_cost import format_frame_cost, measure_frame_cost

    result = measure_frame_cost(ctx.settings, frames, list(videos) or None)
    emit(result, format_frame_cost, as_json)


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
@json_option
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
    from facegate.common.address import parse_host_port

    address = None
    if broker is not None:
        try:
            address = parse_host_port(broker)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--broker") from None
    result = measure_mqtt(address, events, latency_events, rate, directory)
    emit(result, format_mqtt, as_json)
