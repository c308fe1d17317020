"""Identifying the faces of photos against the gallery, one plain row per face (no liveness:
a photo is not live). ``facegate identify`` prints these rows or their JSON."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from facegate.identity.recognizer import FaceResult, Recognizer
from facegate.vision.image_io import load_image


def result_row(photo: Path, result: FaceResult) -> dict:
    """One face: its box and the matcher's decision (``face_not_confirmed`` when MTCNN did
    not confirm the face, so it could not be embedded)."""
    b = result.detection.box
    row: dict = {"photo": str(photo), "box": [round(b.x), round(b.y), round(b.w), round(b.h)]}
    m = result.match
    if m is None:
        row["decision"] = "face_not_confirmed"
        return row
    row.update(
        decision=m.reason,
        student_id=m.student_id,
        candidate_id=m.candidate_id,
        distance=round(m.distance, 4),
        threshold=round(m.threshold, 4),
        nearest_id=m.nearest_id,
        margin=None if m.margin is None else round(m.margin, 4),
    )
    return row


def identify_photos(
    recognizer: Recognizer, photos: Iterable[Path], roster: list[str] | None
) -> list[dict]:
    """A row per face of every photo, or one ``no_face`` row for a photo without a face."""
    rows = []
    for path in photos:
        results = recognizer.identify_image(load_image(path), roster)
        if not results:
            rows.append({"photo": str(path), "decision": "no_face"})
        rows.extend(result_row(path, r) for r in results)
    return rows


def parse_roster(candidates: str | None) -> list[str] | None:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; nothing given: everyone is a candidate."""
    if not candidates:
        return None
    return [c.strip() for c in candidates.split(",") if c.strip()]


def format_row(row: dict) -> str:
    extra = ""
    if "distance" in row:
        extra = (
            f" {row['candidate_id']} distance {row['distance']:.3f} "
            f"(threshold {row['threshold']:.3f})"
        )
    return f"{row['photo']}: {row['decision']}{extra}"
