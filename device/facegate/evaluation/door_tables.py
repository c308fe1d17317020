"""The first paper's four door tables, from the real door: real and fake faces, enrolled or not.

Fatullah et al. (2025) report their door as four tables (their Tables 2-5): a recognised real
face, a recognised fake face (a photo of an enrolled student), an unrecognised real face and an
unrecognised fake face; each row a person with the recognition score, the EAR range, whether a
blink was seen, and the decision. This runs facegate's own door (``DoorService`` on mock pins,
lockstep) over people with live clips: some are enrolled from frames of their own clip, the
others are never enrolled; every person is also shown as a printed photo (a still of their clip,
held in a hand). The door decides with liveness first, so a photo is refused before recognition
runs; the table's recognition columns are then computed apart on the photo's best frame, to fill
the paper's shape (the door itself never embedded it).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from facegate.config import DetectionConfig, Settings
from facegate.demo.roster_file import session_toml
from facegate.errors import DatasetError
from facegate.evaluation.door_runs import run_door
from facegate.evaluation.photo_attack import held_photo_frames, seed_for
from facegate.identity.enrolment import Enroller
from facegate.identity.gallery import open_configured_gallery
from facegate.identity.matcher import ACCEPTED
from facegate.identity.recognizer import Recognizer
from facegate.vision.detection import Box, Detection
from facegate.vision.perception import Perception
from facegate.vision.pipeline import FacePipeline
from facegate.vision.quality import QualityGate
from facegate.vision.sources import OpenCVSource
from facegate.vision.sources.rendered import RenderedSource
from facegate.vision.video import video_frames

TABLES = (
    ("recognised_real", "a recognised real face (enrolled, live)"),
    ("recognised_fake", "a recognised fake face (a photo of an enrolled person)"),
    ("unrecognised_real", "an unrecognised real face (never enrolled, live)"),
    ("unrecognised_fake", "an unrecognised fake face (a photo of a person never enrolled)"),
)


@dataclass(frozen=True)
class Person:
    name: str
    clip: Path
    enrolled: bool


def people_in(clips: list[Path], enrolled: int) -> list[Person]:
    """The first ``enrolled`` clips' people are enrolled, the rest are not."""
    if len(clips) < 2 or not 0 < enrolled < len(clips):
        raise DatasetError("need at least one enrolled and one unenrolled person's clip")
    return [Person(c.stem, c, i < enrolled) for i, c in enumerate(clips)]


def evaluate_door(base: Settings, clips: list[Path], enrolled: int, progress: bool = True) -> dict:
    pipeline = FacePipeline.from_settings(base)
    people = people_in(clips, enrolled)
    rows: dict[str, list[dict]] = {key: [] for key, _ in TABLES}
    with tempfile.TemporaryDirectory(prefix="facegate-eval-door-") as tmp:
        work = Path(tmp)
        settings = _enrol(base, pipeline, work, [p for p in people if p.enrolled])
        with open_configured_gallery(
            settings.paths, pipeline.embedder.name, pipeline.embedder.dim
        ) as gallery:
            recognizer = Recognizer(pipeline, gallery, settings)
        bar = tqdm(total=2 * len(people), desc="door tables", disable=not progress)
        for k, person in enumerate(people):
            real = "recognised_real" if person.enrolled else "unrecognised_real"
            fake = "recognised_fake" if person.enrolled else "unrecognised_fake"
            clip = OpenCVSource(person.clip)
            rows[real].append(_row(person, settings, work, f"real-{k}", pipeline, recognizer, clip))
            bar.update()
            photo = [
                f for _, f in held_photo_frames(_still(person.clip), seed_for(person.name), 8.0)
            ]
            source = RenderedSource.of(photo, 15.0, f"photo of {person.name}")
            rows[fake].append(
                _row(person, settings, work, f"fake-{k}", pipeline, recognizer, source)
            )
            bar.update()
        bar.close()
    totals = {
        key: {
            "people": len(r),
            "granted": sum(x["decision"] == "granted" for x in r),
            "blink_detected": sum(x["blink"] for x in r),
            "recognised": sum(x["recognised"] for x in r),
        }
        for key, r in rows.items()
    }
    return {"embedder": pipeline.embedder.name, "tables": rows, "totals": totals}


def _enrol(base: Settings, pipeline: FacePipeline, work: Path, people: list[Person]) -> Settings:
    """Enrol each person from every 40th frame of their own clip; roster them now, no 2FA,
    liveness as configured but without the random challenge (the clips blink when they do)."""
    from datetime import UTC, datetime, timedelta

    roster = work / "roster.toml"
    now = datetime.now(UTC)
    ids = [p.name for p in people]
    roster.write_text(
        session_toml("exam", "room", now - timedelta(hours=1), now + timedelta(hours=2), ids)
    )
    d = base.model_dump()
    d["device"] |= {"id": "table-door", "room": "room"}
    d["paths"] |= {"data_dir": work / "enrolled", "key_file": None}
    d["hardware"] |= {"pin_factory": "mock", "unlock_s": 1.0, "keypad": "none"}
    d["access"] |= {"roster_file": roster, "name_students_not_on_roster": True}
    d["liveness"] |= {"challenge": False}
    d["mqtt"] = {"enabled": False}
    settings = Settings.model_validate(d)
    with open_configured_gallery(
        settings.paths, pipeline.embedder.name, pipeline.embedder.dim, create=True
    ) as gallery:
        enroller = Enroller(pipeline, QualityGate(settings.quality))
        for person in people:
            shots = video_frames(person.clip, every=40)
            if enroller.enroll_images(gallery, person.name, person.name, shots, work).stored < 1:
                raise DatasetError(f"{person.clip}: no frame of it could be enrolled")
    return settings


def _row(
    person: Person,
    template: Settings,
    work: Path,
    name: str,
    pipeline: FacePipeline,
    recognizer: Recognizer,
    source: OpenCVSource | RenderedSource,
) -> dict:
    data = work / name
    shutil.copytree(work / "enrolled", data)
    settings = template.model_copy(
        update={"paths": template.paths.model_copy(update={"data_dir": data})}
    )
    events, relay = run_door(settings, pipeline, source)
    access = [e for e in events if e["type"] == "access"]
    # A clip may hold several attempts: a grant in any of them is the row's outcome.
    granted = [e for e in access if e["decision"] == "granted"]
    first = (granted or access or [{"decision": "none", "reasons": ["none"]}])[0]
    liveness = first.get("liveness") or {}
    source.open()  # once more, from the start: the EAR range and the best frame for the table
    try:
        ears, best = _ears_and_best(source, pipeline)
    finally:
        source.close()
    scores = first.get("scores") or {}
    if scores.get("distance") is None and best is not None:
        # The door refused before recognition (a photo): score its best frame apart.
        image, box = best
        embedding = pipeline.embed(image, Detection(box, 1.0, "tracker"))
        if embedding is not None:
            match = recognizer.identify(embedding)
            scores = {"distance": round(match.distance, 4), "threshold": match.threshold}
            scores["candidate"] = match.candidate_id
            scores["match"] = match.reason
            scores["by"] = "table"
    distance = scores.get("distance")
    return {
        "person": person.name,
        "enrolled": person.enrolled,
        # As the door decides: within the threshold *and* clear of the second-nearest student.
        "recognised": scores.get("match") == ACCEPTED,
        "match": scores.get("match"),
        "distance": distance,
        "threshold": scores.get("threshold"),
        "blink": bool(liveness.get("blinks")),
        "ear_range": ears,
        "decision": first["decision"],
        "reasons": first["reasons"],
        "relay_opened": bool(relay),
        "student_id": first.get("student_id"),
        "attempts": [
            {
                "decision": e["decision"],
                "reasons": e["reasons"],
                "distance": (e.get("scores") or {}).get("distance"),
                "student_id": e.get("student_id"),
            }
            for e in access
        ],
    }


def _still(clip: Path) -> np.ndarray:
    """A frame a third of the way into the clip: the photo printed of this person."""
    count = int(cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FRAME_COUNT))
    for index, frame in enumerate(video_frames(clip)):
        if index >= count // 3:
            return frame
    raise DatasetError(f"{clip}: no frame could be read")


def _ears_and_best(
    source: OpenCVSource | RenderedSource, pipeline: FacePipeline
) -> tuple[list[float] | None, tuple[np.ndarray, Box] | None]:
    """The mean-EAR range over the frames a face was tracked in, and the largest face's frame."""
    perception = Perception.from_config(DetectionConfig(), pipeline.landmarks)
    ears: list[float] = []
    best: tuple[np.ndarray, Box] | None = None
    while (frame := source.read()) is not None:
        face = perception.step(frame.image, frame.t)
        if face is None:
            continue
        ears.append(sum(face.eyes) / 2)
        if best is None or face.box.w > best[1].w:
            best = (frame.image, face.box)
    span = [round(min(ears), 3), round(max(ears), 3)] if ears else None
    return span, best


def _as_whom(row: dict) -> str:
    """Who a grant went to when it was not the person shown, and how many attempts there were."""
    out = ""
    if row["decision"] == "granted" and row.get("student_id") != row["person"]:
        out += f" as {row.get('student_id')}"
    if len(row.get("attempts", [])) > 1:
        out += f" [{len(row['attempts'])} attempts]"
    return out


def format_door_tables(r: dict) -> str:
    lines = []
    for key, title in TABLES:
        rows = r["tables"][key]
        lines.append(f"\n{title}")
        lines.append(
            f"  {'no':>2}  {'person':<10} {'recognised':<10} {'distance':>8}  {'blink':<5} "
            f"{'EAR range':<13}  decision"
        )
        for i, x in enumerate(rows, start=1):
            ear = "-" if not x["ear_range"] else f"{x['ear_range'][0]:.3f}-{x['ear_range'][1]:.3f}"
            dist = "-" if x["distance"] is None else f"{x['distance']:.3f}"
            lines.append(
                f"  {i:>2}  {x['person']:<10} {'yes' if x['recognised'] else 'no':<10} {dist:>8}  "
                f"{'yes' if x['blink'] else 'no':<5} {ear:<13}  {x['decision']} "
                f"({', '.join(x['reasons'])}){_as_whom(x)}"
            )
        t = r["totals"][key]
        lines.append(
            f"  total: {t['people']} people, {t['recognised']} recognised, "
            f"{t['blink_detected']} with a blink, {t['granted']} granted"
        )
    return "\n".join(lines)
