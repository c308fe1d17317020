"""The attack sets of ``facegate eval liveness``: stills held in a hand, a finger waved over
their eyes, the same stills printed small, and replayed videos.

``face_px`` sets show every still again with the whole photo scaled so that its face is that
many pixels (the tracker's box) in the 640x480 frame: a passport-style print held at chest
height, where landmark jitter on a small face can look like a blink.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from facegate.config.liveness import LivenessConfig
from facegate.errors import DatasetError
from facegate.evaluation.liveness import (
    STILL_SUFFIXES,
    VIDEO_SUFFIXES,
    detect_blinks,
    new_tracker,
    replay_pass_rate,
    run_check,
    track,
    video_with_times,
)
from facegate.evaluation.photo_attack import HeldPhoto, seed_for
from facegate.vision.image_io import load_image
from facegate.vision.perception import Perception

SECONDS, FPS = 5.0, 15.0


def attack_files(paths: Iterable[Path]) -> list[Path]:
    """Stills and videos under the given files and folders (recursively), sorted."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(
                f
                for f in sorted(p.rglob("*"))
                if f.suffix.lower() in STILL_SUFFIXES | VIDEO_SUFFIXES
            )
        elif p.is_file():
            found.append(p)
        else:
            raise DatasetError(f"{p}: no such attack file or folder")
    return found


_WORKER_TRACKER: Perception | None = None


def photo_face(photo: np.ndarray, tracker: Perception) -> tuple[np.ndarray, float] | None:
    """The photo's eye centres (a (2, 2) array, for the hand wave) and its face's size in
    pixels (the tracker's box side), or None when the tracker finds no face in it."""
    tracker.reset()
    face = tracker.step(photo, 0.0)
    if face is None:
        return None
    eyes = np.array([face.landmarks[36:42].mean(axis=0), face.landmarks[42:48].mean(axis=0)])
    return eyes, float(face.box.w)


def eye_centres(photo: np.ndarray, tracker: Perception) -> np.ndarray | None:
    """Where the photo's eyes are (for the hand-wave attack), or None without a face."""
    found = photo_face(photo, tracker)
    return None if found is None else found[0]


def _still_frames(photo: np.ndarray, seed: int, eyes: np.ndarray | None, scale: float | None):
    held = HeldPhoto(photo, seed, FPS, eyes, scale=scale)
    for _ in range(round(SECONDS * FPS)):
        yield held.next()


def _attack_one(args: tuple[Path, LivenessConfig, bool, int | None]) -> dict:
    global _WORKER_TRACKER
    path, params, wave, face_px = args
    if _WORKER_TRACKER is None:
        _WORKER_TRACKER = new_tracker()
    if path.suffix.lower() in VIDEO_SUFFIXES:
        stream, fps = video_with_times(path)
        kind = "video"
    else:
        photo, fps = load_image(path), FPS
        found = photo_face(photo, _WORKER_TRACKER) if wave or face_px else None
        kind = "hand_wave" if wave else f"still_{face_px}px" if face_px else "still"
        if (wave or face_px) and found is None:
            return {"path": str(path), "kind": kind, "skipped": "no face in the photo"}
        eyes = found[0] if wave and found else None
        scale = face_px / found[1] if face_px and found else None
        seed = seed_for(path.name + str(path.parent.name) + (f"@{face_px}" if face_px else ""))
        stream = _still_frames(photo, seed, eyes, scale)
    seq = track(stream, _WORKER_TRACKER, fps)
    duration = seq.n_frames / fps
    result = run_check(seq.samples, params, duration)
    entry = {
        "path": str(path),
        "kind": kind,
        "frames": seq.n_frames,
        "frames_with_face": len(seq.samples),
        "accepted": result["outcome"] == "live",
        **result,
        "ms_per_frame": round(seq.ms_per_frame, 2),
    }
    if seq.samples:
        entry["face_px_median"] = round(float(np.median([s.box.w for s in seq.samples])), 1)
    if kind == "video":
        detector = detect_blinks(seq.samples, params)
        entry["blink_times"] = [round(b.start, 2) for b in detector.blinks]
        entry["replay"] = replay_pass_rate(detector.blinks, duration, params)
    return entry


def _summary(results: list[dict]) -> dict:
    return {
        "n": len(results),
        "accepted": [r["path"] for r in results if r["accepted"]],
        "outcomes": dict(Counter("/".join(r["reasons"]) for r in results)),
        "face_px_median": round(
            float(np.median([r["face_px_median"] for r in results if "face_px_median" in r])), 1
        )
        if any("face_px_median" in r for r in results)
        else None,
    }


def evaluate_attacks(
    paths: list[Path],
    params: LivenessConfig,
    jobs: int,
    hand_wave: bool = False,
    face_px: Iterable[int] = (),
) -> dict:
    """Every file as an attack; with ``hand_wave`` every still also with a finger passed over
    its eyes twice (the attack that fools EAR-only blink checks); for each of ``face_px`` every
    still again, scaled so that its face is that many pixels."""
    files = attack_files(paths)
    if not files:
        raise DatasetError("no attack stills or videos found")
    stills = [f for f in files if f.suffix.lower() in STILL_SUFFIXES]
    work = [(f, params, False, None) for f in files]
    if hand_wave:
        work += [(f, params, True, None) for f in stills]
    sizes = sorted(set(face_px))
    work += [(f, params, False, px) for px in sizes for f in stills]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            done = list(pool.map(_attack_one, work, chunksize=4))
    else:
        done = [_attack_one(w) for w in work]
    results = [r for r in done if "skipped" not in r]
    accepted = [r for r in results if r["accepted"]]
    waves = [r for r in results if r["kind"] == "hand_wave"]
    return {
        "apcer": round(len(accepted) / len(results), 4),
        "n_attacks": len(results),
        "attacks_accepted": [r["path"] for r in accepted],
        "attack_outcomes": dict(Counter("/".join(r["reasons"]) for r in results)),
        "attacks_without_face": sum(r["frames_with_face"] == 0 for r in results),
        "hand_wave_attacks": len(waves),
        "hand_wave_accepted": sum(r["accepted"] for r in waves),
        "hand_wave_outcomes": dict(Counter("/".join(r["reasons"]) for r in waves)),
        "small_face_attacks": {
            str(px): {
                **_summary([r for r in results if r["kind"] == f"still_{px}px"]),
                "skipped": sum(r.get("kind") == f"still_{px}px" for r in done if "skipped" in r),
            }
            for px in sizes
        },
        "videos": [r for r in results if r["kind"] == "video"],
    }
