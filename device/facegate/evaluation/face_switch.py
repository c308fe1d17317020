"""The face-switch attack, as frames: a live stranger blinks, then holds up an enrolled photo.

A person who is not enrolled stands back from the camera (face about 160 px), answers the
door's blink challenge, and a moment after the last blink (``delay_s``, 0.45 s in the attack
that was found) holds a printed photo of an enrolled student in front of their face, closer
(face about 240 px), shaken a little by the hand. Against a door that embeds only the
attempt's best frames (largest, frontal, eyes open), the photo's frames win and the stranger
is let in as the photographed student. The renderer answers the challenge the way the demo's
actor does, so it drives the real door end to end.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facegate.config import Settings
from facegate.demo.actor import CLOSE_S, HOLD_S, OPEN_S, PortraitActor, photo_landmarks
from facegate.demo.staging import STUDENT
from facegate.evaluation.door_runs import run_door
from facegate.evaluation.photo_attack import FRAME_SIZE, HeldPhoto, printed_face, seed_for
from facegate.vision.pipeline import FacePipeline
from facegate.vision.sources.rendered import RenderedSource
from facegate.vision.tracker import box_from_landmarks

BLINK_S = CLOSE_S + HOLD_S + OPEN_S


class FaceSwitchAttack:
    """Frames of ``stranger`` (a :class:`PortraitActor`) until ``delay_s`` after their last
    answered blink, then the printed ``photo_bgr`` held over them, its face ``photo_face_px``.

    ``respond`` is the listener's answer to the door's prompt; ``frame(t)`` must be called in
    time order (the hand's tremor is a random walk).
    """

    def __init__(
        self,
        stranger: PortraitActor,
        photo_bgr: np.ndarray,
        photo_face_px: float = 240.0,
        delay_s: float = 0.45,
        seed: int = 0,
    ) -> None:
        self.stranger = stranger
        self.delay_s = delay_s
        sheet = printed_face(photo_bgr)
        face = box_from_landmarks(photo_landmarks(sheet))
        w, h = FRAME_SIZE
        # The sheet is held where the stranger's face is, its face centred on theirs.
        sheet_centre = np.array([sheet.shape[1] / 2, sheet.shape[0] / 2])
        scale = photo_face_px / face.w
        offset = (sheet_centre - np.array(face.center)) * scale
        centre = (w / 2 + offset[0], 0.45 * h + offset[1])
        self._held = HeldPhoto(
            sheet, seed_for(f"switch-{seed}"), stranger.fps, None, (), scale, centre
        )
        self.switch_at: float | None = None

    def respond(self, n: int, after: float) -> list[float]:
        """The stranger blinks ``n`` times; the photo comes up ``delay_s`` after the last."""
        times = self.stranger.respond(n, after)
        if times:
            self.switch_at = times[-1] + BLINK_S + self.delay_s
        return times

    def frame(self, t: float) -> np.ndarray:
        live = self.stranger.frame(t)
        if self.switch_at is None or t < self.switch_at:
            return live
        return self._held.next(live)[1]


@dataclass(frozen=True)
class SwitchCase:
    """One face-switch run: the challenge's count, the two faces' sizes, the delay."""

    blinks: int
    stranger_px: float
    photo_px: float
    delay_s: float
    seed: int

    @property
    def label(self) -> str:
        return (
            f"{self.blinks} blink(s), stranger {self.stranger_px:.0f} px, photo "
            f"{self.photo_px:.0f} px, {self.delay_s:.2f} s after the last blink"
        )


def switch_cases(runs: int, seed: int = 0) -> list[SwitchCase]:
    """``runs`` cases spread over challenge counts 1-3, sizes and timings (seeded)."""
    rng = np.random.default_rng(seed)
    return [
        SwitchCase(
            blinks=1 + i % 3,
            stranger_px=float(rng.uniform(140, 200)),
            photo_px=float(rng.uniform(170, 280)),
            delay_s=float(rng.uniform(0.1, 1.0)),
            seed=int(rng.integers(1 << 30)),
        )
        for i in range(runs)
    ]


def run_scene(
    settings: Settings,
    pipeline: FacePipeline,
    scene: FaceSwitchAttack | PortraitActor,
    seconds: float = 14.0,
) -> tuple[list[dict], list]:
    """The real door fed ``scene`` at 15 frames/s: (events, relay on-periods)."""
    fps = 15.0
    source = RenderedSource(lambda _i, t: scene.frame(t), round(seconds * fps), fps, "scene")
    return run_door(settings, pipeline, source, scene)


def evaluate_face_switch(
    base: Settings, runs: int = 50, controls: int = 6, progress: bool = True
) -> dict:
    """The attack ``runs`` times (a never-enrolled live stranger answers the challenge, then
    holds up the enrolled student's photo) and ``controls`` genuine runs, on the real door."""
    from facegate.demo import material
    from facegate.demo.staging import enrol_collins, write_session

    stranger_photo = material.load_photo(material.HOPPER)
    student_photo = material.load_photo(material.ASTRONAUT)
    with tempfile.TemporaryDirectory(prefix="facegate-face-switch-") as tmp:
        work = Path(tmp)
        roster = write_session(work / "roster.toml", "exam-1", "hall-b", [STUDENT], False)
        pipeline = FacePipeline.from_settings(base)
        template = _door_settings(base, work / "enrolled", roster, 1)
        enrol_collins(template, pipeline, work)
        rows = []
        cases = switch_cases(runs)
        bar = tqdm(total=len(cases) + controls, desc="face switch", disable=not progress)
        for k, case in enumerate(cases):
            settings = _fresh(base, work, f"attack-{k}", roster, case.blinks)
            stranger = PortraitActor(stranger_photo, seed=case.seed, face_px=case.stranger_px)
            attack = FaceSwitchAttack(
                stranger, student_photo, case.photo_px, case.delay_s, case.seed
            )
            events, relay = run_scene(settings, pipeline, attack)
            rows.append(_row(case.label, events, relay, attack=True))
            bar.update()
        for k in range(controls):
            settings = _fresh(base, work, f"control-{k}", roster, 1 + k % 3)
            actor = PortraitActor(student_photo, seed=100 + k, face_px=150 + 10 * (k % 5))
            events, relay = run_scene(settings, pipeline, actor)
            rows.append(_row(f"genuine, seed {100 + k}", events, relay, attack=False))
            bar.update()
        bar.close()
    attacks = [r for r in rows if r["attack"]]
    genuine = [r for r in rows if not r["attack"]]
    return {
        "runs": len(attacks),
        "refused": sum(not r["opened"] for r in attacks),
        "refused_as": dict(Counter(r["first_reason"] for r in attacks)),
        "genuine_runs": len(genuine),
        "genuine_granted": sum(r["opened"] for r in genuine),
        "rows": rows,
    }


def _row(label: str, events: list[dict], relay: list, attack: bool) -> dict:
    access = [e for e in events if e["type"] == "access"]
    first = access[0] if access else {}
    return {
        "case": label,
        "attack": attack,
        "opened": bool(relay),
        "first_reason": (first.get("reasons") or ["none"])[0],
        "binding": (first.get("scores") or {}).get("binding"),
        "alarms": [e["kind"] for e in events if e["type"] == "alarm"],
    }


def _door_settings(base: Settings, data: Path, roster: Path, blinks: int) -> Settings:
    d = base.model_dump()
    d["device"] |= {"id": "switch-door", "room": "hall-b"}
    d["paths"] |= {"data_dir": data, "key_file": None}
    d["hardware"] |= {"pin_factory": "mock", "unlock_s": 1.0, "keypad": "none"}
    d["access"] |= {"roster_file": roster}
    d["mqtt"] = {"enabled": False}
    d["liveness"] |= {"challenge": True, "challenge_min_blinks": blinks}
    d["liveness"] |= {"challenge_max_blinks": blinks}
    return Settings.model_validate(d)


def _fresh(base: Settings, work: Path, name: str, roster: Path, blinks: int) -> Settings:
    shutil.copytree(work / "enrolled", work / name)
    return _door_settings(base, work / name, roster, blinks)


def format_face_switch(r: dict) -> str:
    lines = [
        f"face switch: {r['refused']} of {r['runs']} attacks refused "
        f"({', '.join(f'{k} {v}' for k, v in r['refused_as'].items())}); "
        f"genuine: {r['genuine_granted']} of {r['genuine_runs']} granted"
    ]
    for row in r["rows"]:
        verdict = "OPENED" if row["opened"] else "shut"
        lines.append(
            f"  {'attack ' if row['attack'] else 'genuine'} {verdict:<6} {row['first_reason']:<16}"
            f" binding {row['binding']}  {row['case']}"
        )
    return "\n".join(lines)
