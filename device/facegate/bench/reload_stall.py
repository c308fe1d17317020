"""Does a gallery reload stall the door loop? The per-frame path beside a reload, side by side.

The door reloads its gallery on a worker thread while the main loop keeps tracking, checking
blinks and deciding with the old gallery (``door/data.py``). Python threads share one
interpreter lock, so a reload that held it (decrypting thousands of templates, building the
matcher) could still hold up frames. This runs the door's own per-frame path (the tracker,
the attempt's frames, liveness: ``DoorFrame``) over a real clip, in rounds that take turns:
one pass with nothing else running, one pass while a gallery of N students is reloaded back to
back, on a worker thread (what the door does) or in a child process (the alternative). Taking
turns in one run keeps a shared, noisy machine from favouring any side.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facegate.bench.door_loop import DoorFrame, clip_at_640x480
from facegate.bench.gallery import DIM, build_synthetic_gallery
from facegate.bench.matcher_loading import build_matcher, build_matcher_in_child
from facegate.config import Settings
from facegate.errors import FacegateError
from facegate.vision.landmarks import LandmarkPredictor
from facegate.vision.sources import Frame

SIDES = ("none", "thread", "process")


class _Reloader:
    """Reloads the gallery again and again until stopped, on a worker thread; each load runs
    on that thread (``thread``) or in a child process that the thread waits for (``process``)."""

    def __init__(self, settings: Settings, in_child: bool) -> None:
        self._settings = settings
        self._load = build_matcher_in_child if in_child else build_matcher
        self._stop = threading.Event()
        self.seconds: list[float] = []
        self._thread = threading.Thread(target=self._run, name="gallery-reload", daemon=True)

    def _run(self) -> None:
        while True:  # at least one whole reload, however short the pass
            start = time.perf_counter()
            self._load(self._settings, "facenet", DIM)
            self.seconds.append(time.perf_counter() - start)
            if self._stop.is_set():
                return

    def __enter__(self) -> _Reloader:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _pass(door: DoorFrame, frames: list[Frame]) -> list[float]:
    """One pass of the clip through the door's frame path; per-frame ms."""
    door.check = None
    door.perception.reset()
    start = len(door.ms["per_frame"])
    for frame in frames:
        door.run(frame.image, frame.t)
    return door.ms["per_frame"][start:]


def _summary(ms: list[float]) -> dict[str, float]:
    return {f"p{q}": round(float(np.percentile(ms, q)), 2) for q in (50, 95)}


def measure_reload_stall(
    settings: Settings, clip: Path, students: int, rounds: int = 3, progress: bool = False
) -> dict:
    """Frame times with no reload, a thread reload and a child-process reload, taking turns."""
    frames = list(clip_at_640x480(clip))
    if not frames:
        raise FacegateError(f"{clip}: no frames could be read")
    door = DoorFrame(settings, LandmarkPredictor())
    ms: dict[str, list[float]] = {side: [] for side in SIDES}
    reload_s: dict[str, list[float]] = {side: [] for side in SIDES[1:]}
    with tempfile.TemporaryDirectory(prefix="facegate-bench-") as tmp:
        local = settings.model_copy(
            update={"paths": settings.paths.model_copy(update={"data_dir": Path(tmp)})}
        )
        build_synthetic_gallery(
            local.paths.gallery_path(), local.paths.resolved_key_file(), students
        )
        _pass(door, frames[:30])  # warm caches and the detector before timing
        for i in tqdm(range(rounds), desc="reload stall", unit="round", disable=not progress):
            for side in SIDES[i % 3 :] + SIDES[: i % 3]:
                if side == "none":
                    ms[side] += _pass(door, frames)
                    continue
                with _Reloader(local, in_child=side == "process") as reloader:
                    ms[side] += _pass(door, frames)
                reload_s[side] += reloader.seconds
    quiet_p95 = float(np.percentile(ms["none"], 95))
    return {
        "clip": str(clip),
        "students": students,
        "rounds": rounds,
        "frames_per_side": len(ms["none"]),
        "frame_ms": {side: _summary(v) for side, v in ms.items()},
        "reloads_completed": {side: len(v) for side, v in reload_s.items()},
        "reload_s_p50": {
            side: round(float(np.median(v)), 3) if v else None for side, v in reload_s.items()
        },
        "p95_ratio": {
            side: round(float(np.percentile(ms[side], 95)) / quiet_p95, 2) for side in SIDES[1:]
        },
    }


def format_reload_stall(r: dict) -> str:
    lines = [
        f"door frame path on {r['clip']}, gallery of {r['students']} students, "
        f"{r['rounds']} rounds taking turns, {r['frames_per_side']} frames a side"
    ]
    for side in SIDES:
        f = r["frame_ms"][side]
        line = f"  reload {side:<8} p50 {f['p50']:7.2f} ms   p95 {f['p95']:7.2f} ms"
        if side != "none":
            line += (
                f"   p95 ratio {r['p95_ratio'][side]:.2f}  ({r['reloads_completed'][side]} "
                f"reloads, {r['reload_s_p50'][side]} s each)"
            )
        lines.append(line)
    return "\n".join(lines)
