"""How far apart are the frames of one person across a blink, and of two people?

The door binds an attempt to one person by embedding, besides its best frames, the frame around
each blink (and frames where the face changed abruptly), and refusing the attempt when any of
them is further than a limit from the best frames' mean (``face_changed``). This measures the
limit on real video: for every annotated blink of every clip, the blink's witness frame (the
best-scored frame within the attempt's window around it, as the door picks it) against the
clip's best frames (same person), and against every other clip's best frames (different
people). The door's default limit is set between the two (docs/liveness.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from facegate.config.detection import DetectionConfig
from facegate.errors import DatasetError
from facegate.identity.attempt_frames import AttemptFrames
from facegate.identity.recognition import average_embedding
from facegate.vision.detection import Detection
from facegate.vision.perception import Perception
from facegate.vision.pipeline import FacePipeline
from facegate.vision.video import video_frames


def _clip_frames(path: Path, fps: float) -> list[tuple[float, np.ndarray]]:
    return [(i / fps, frame) for i, frame in enumerate(video_frames(path))]


def clip_embeddings(
    pipeline: FacePipeline, path: Path, fps: float, blinks: list[list[int]], keep: int = 3
) -> tuple[np.ndarray | None, list[np.ndarray]]:
    """(mean of the clip's best frames, one embedding per blink's witness frame)."""
    perception = Perception.from_config(DetectionConfig(), pipeline.landmarks)
    frames = AttemptFrames(keep)
    witnesses = []
    pending = [(start / fps, end / fps) for start, end in blinks]
    for t, image in _clip_frames(path, fps):
        face = perception.step(image, t)
        if face is not None:
            frames.offer(face, image)
        # The door learns of a blink when the eyes have reopened; its witness comes from then.
        while pending and t >= pending[0][1] + frames.window_s:
            start, end = pending.pop(0)
            witness = frames.blink(start, end)
            if witness is not None:
                witnesses.append(witness)

    def embed(frame) -> np.ndarray | None:  # type: ignore[no-untyped-def]
        return pipeline.embed(frame.image, Detection(frame.box, 1.0, "tracker"))

    best = [v for v in map(embed, frames.best()) if v is not None]
    seen = [v for v in map(embed, witnesses) if v is not None]
    return (average_embedding(best) if best else None), seen


def evaluate_binding(clips: Path, annotations: Path, pipeline: FacePipeline) -> dict:
    notes = json.loads(annotations.read_text())
    people: dict[str, tuple[np.ndarray, list[np.ndarray]]] = {}
    for key, note in sorted(notes.items()):
        if not isinstance(note, dict) or not note.get("blinks"):
            continue
        path = clips / key
        if not path.is_file():
            raise DatasetError(f"{path}: annotated clip is missing")
        best, witnesses = clip_embeddings(
            pipeline, path, float(note.get("fps", 25.0)), note["blinks"]
        )
        if best is not None and witnesses:
            people[key] = (best, witnesses)
    if len(people) < 2:
        raise DatasetError("need at least two annotated clips with a blink whose faces embed")
    same = [1.0 - float(w @ best) for best, ws in people.values() for w in ws]
    different = [
        1.0 - float(w @ other_best)
        for key, (_, ws) in people.items()
        for other, (other_best, _) in people.items()
        if other != key
        for w in ws
    ]
    same_max, different_min = max(same), min(different)
    return {
        "clips": sorted(people),
        "embedder": pipeline.embedder.name,
        "same_person": _summary(same),
        "different_people": _summary(different),
        "gap": round(different_min - same_max, 4),
        "midpoint": round((same_max + different_min) / 2, 4),
    }


def _summary(values: list[float]) -> dict:
    v = np.array(values)
    return {
        "n": len(values),
        "min": round(float(v.min()), 4),
        "p50": round(float(np.median(v)), 4),
        "max": round(float(v.max()), 4),
    }


def format_binding(r: dict) -> str:
    s, d = r["same_person"], r["different_people"]
    lines = [
        f"{len(r['clips'])} clips, {r['embedder']}: cosine distance of a blink's frame to the "
        "best frames' mean",
        f"  same person      n={s['n']:<4} min {s['min']:.3f}  median {s['p50']:.3f}  "
        f"max {s['max']:.3f}",
        f"  different people n={d['n']:<4} min {d['min']:.3f}  median {d['p50']:.3f}  "
        f"max {d['max']:.3f}",
        f"  gap {r['gap']:.3f}; midpoint {r['midpoint']:.3f}",
    ]
    return "\n".join(lines)
