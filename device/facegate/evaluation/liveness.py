"""``facegate eval liveness``: blink detection, genuine pass rate, attacks and replays.

Clips are run through the door's own path (Haar tracker, dlib 68 landmarks, liveness) with
frame times from their frame rate. Scoring follows the annotation file's rules: an annotated
blink is found when a detected blink overlaps it within +-2 frames; detections overlapping
``uncertain`` intervals are neither hits nor false alarms; detections overlapping
``closures`` are false alarms and also counted on their own; clips annotated ``null`` are
run but not scored.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facegate.config.detection import DetectionConfig
from facegate.config.liveness import LivenessConfig
from facegate.errors import DatasetError
from facegate.liveness.blinks import Blink, BlinkDetector
from facegate.liveness.challenge import Challenge, replay_blinks
from facegate.liveness.eye_frame import eye_frame
from facegate.liveness.verdict import LivenessCheck
from facegate.vision.face_sample import FaceSample
from facegate.vision.perception import Perception

TOLERANCE_FRAMES = 2
STILL_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm"}
# Replay analysis: window starts every REPLAY_STEP_S over the recording.
REPLAY_STEP_S = 0.1


def new_tracker(detection: DetectionConfig | None = None) -> Perception:
    """The door's per-frame step, built from the same ``[detection]`` section."""
    return Perception.from_config(detection or DetectionConfig())


@dataclass
class Track:
    """A sequence as liveness saw it: samples, frame count and the time spent per frame."""

    samples: list[FaceSample]
    n_frames: int
    fps: float
    ms_per_frame: float


def track(frames: Iterable[tuple[float, np.ndarray]], tracker: Perception, fps: float) -> Track:
    tracker.reset()
    samples: list[FaceSample] = []
    n, spent = 0, 0.0
    for t, frame in frames:
        n += 1
        started = time.perf_counter()
        face = tracker.step(frame, t)
        if face is not None:
            samples.append(face)
        spent += time.perf_counter() - started
    return Track(samples, n, fps, 1000.0 * spent / max(n, 1))


def video_with_times(path: Path, fps: float | None = None) -> tuple[Iterator, float]:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise DatasetError(f"{path}: cannot be opened as a video")
    rate = fps or cap.get(cv2.CAP_PROP_FPS) or 30.0

    def frames() -> Iterator[tuple[float, np.ndarray]]:
        try:
            i = 0
            while True:
                ok, frame = cap.read()
                if not ok:
                    return
                yield i / rate, frame
                i += 1
        finally:
            cap.release()

    return frames(), rate


def detect_blinks(samples: list[FaceSample], params: LivenessConfig) -> BlinkDetector:
    detector = BlinkDetector(params)
    previous = None
    for s in samples:
        if previous is not None and s.t - previous.t > params.max_gap_s:
            previous = None
        detector.add(eye_frame(s, previous))
        previous = s
    detector.settle(float("inf"))
    return detector


def run_check(samples: list[FaceSample], params: LivenessConfig, duration: float) -> dict:
    """Liveness without a challenge over a whole sequence: the verdict and when."""
    check = LivenessCheck(0.0, params.model_copy(update={"timeout_s": max(duration, 0.6)}))
    verdict = None
    for s in samples:
        verdict = check.add(s)
        if verdict is not None:
            break
    verdict = verdict or check.expire(duration)
    return {
        "outcome": verdict.outcome,
        "reasons": list(verdict.reasons),
        "at_s": round(verdict.at, 2),
        "blinks": len(check.blinks.blinks),
    }


def replay_pass_rate(blinks: list[Blink], duration: float, params: LivenessConfig) -> dict:
    """How often this recording, replayed, passes a random challenge.

    The prompt falls at a uniformly random moment of the recording (every 0.1 s) and asks for
    each count from min to max blinks with equal chance.
    """
    counts = range(params.challenge_min_blinks, params.challenge_max_blinks + 1)
    starts = np.arange(0.0, max(duration, REPLAY_STEP_S), REPLAY_STEP_S)
    per_count = {}
    for n in counts:
        passed = sum(
            replay_blinks(
                blinks,
                Challenge(n, float(s), params.challenge_window_s, params.challenge_settle_s),
            )
            == "passed"
            for s in starts
        )
        per_count[n] = passed / len(starts)
    return {
        "pass_rate": round(float(np.mean(list(per_count.values()))), 4),
        "per_count": {str(k): round(v, 4) for k, v in per_count.items()},
        "window_starts": len(starts),
    }


def _overlaps(det: tuple[float, float], interval: list[int]) -> bool:
    return det[0] <= interval[1] + TOLERANCE_FRAMES and det[1] >= interval[0] - TOLERANCE_FRAMES


def score_clip(blinks: list[Blink], fps: float, note: dict) -> dict:
    """Hits, misses and false alarms of one annotated clip, in frames."""
    dets = [(b.start * fps, b.end * fps) for b in blinks]
    truth = note.get("blinks") or []
    uncertain = note.get("uncertain") or []
    closures = note.get("closures") or []
    hits = sum(any(_overlaps(d, iv) for d in dets) for iv in truth)
    closure_dets = [d for d in dets if any(_overlaps(d, iv) for iv in closures)]
    false = [
        d
        for d in dets
        if not any(_overlaps(d, iv) for iv in truth)
        and not any(_overlaps(d, iv) for iv in uncertain)
    ]
    return {
        "annotated": len(truth),
        "hits": hits,
        "false_alarms": [[round(a), round(b)] for a, b in false],
        "closures": len(closures),
        "closures_detected": sum(any(_overlaps(d, iv) for d in dets) for iv in closures),
        "closure_detections": len(closure_dets),
        "detected": [[round(a), round(b)] for a, b in dets],
    }


def read_annotations(path: Path) -> dict:
    try:
        notes = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: not a readable annotation file ({exc})") from exc
    if not isinstance(notes, dict) or not notes:
        raise DatasetError(f"{path}: expected an object keyed by clip path")
    for key, note in notes.items():
        if not isinstance(note, dict) or "blinks" not in note:
            raise DatasetError(f"{path}: entry {key!r} has no 'blinks' (null or a list)")
        for kind in ("blinks", "uncertain", "closures"):
            for iv in note.get(kind) or []:
                if not (isinstance(iv, list) and len(iv) == 2 and 0 <= iv[0] <= iv[1]):
                    raise DatasetError(f"{path}: {key} {kind}: bad interval {iv!r}")
    return notes


def evaluate_clips(clips: Path, notes: dict, params: LivenessConfig) -> dict:
    tracker = new_tracker()
    per_clip = {}
    totals = Counter()
    ms, frames = 0.0, 0
    genuine = []
    replay = []
    for key in sorted(notes):
        note = notes[key]
        path = clips / key
        if not path.is_file():
            raise DatasetError(f"{path}: listed in the annotations but missing")
        stream, fps = video_with_times(path, note.get("fps"))
        seq = track(stream, tracker, fps)
        ms += seq.ms_per_frame * seq.n_frames
        frames += seq.n_frames
        duration = seq.n_frames / fps
        detector = detect_blinks(seq.samples, params)
        entry: dict = {
            "frames": seq.n_frames,
            "frames_with_face": len(seq.samples),
            "blinks_detected": len(detector.blinks),
            "rejected_dips": dict(Counter(b.reason for b in detector.rejected)),
        }
        if note["blinks"] is not None:
            entry.update(score_clip(detector.blinks, fps, note))
            for k in ("annotated", "hits", "closures", "closures_detected"):
                totals[k] += entry[k]
            totals["false_alarms"] += len(entry["false_alarms"])
            totals["hit_or_false"] += entry["hits"] + len(entry["false_alarms"])
            if note["blinks"]:
                check = run_check(seq.samples, params, duration)
                entry["liveness"] = check
                genuine.append(check["outcome"] == "live")
            entry["replay"] = replay_pass_rate(detector.blinks, duration, params)
            if note["blinks"]:
                replay.append(entry["replay"]["pass_rate"])
        else:
            entry["detected"] = [
                [round(b.start * fps), round(b.end * fps)] for b in detector.blinks
            ]
        per_clip[key] = entry
    return {
        "blink_recall": round(totals["hits"] / max(totals["annotated"], 1), 4),
        "blink_precision": round(
            (totals["hit_or_false"] - totals["false_alarms"]) / max(totals["hit_or_false"], 1), 4
        ),
        "blinks_annotated": totals["annotated"],
        "blinks_found": totals["hits"],
        "false_alarms": totals["false_alarms"],
        "closures": totals["closures"],
        "closures_detected": totals["closures_detected"],
        "genuine_pass_rate": round(sum(genuine) / max(len(genuine), 1), 4),
        "n_genuine_with_blink": len(genuine),
        "replay_challenge_pass_rate": round(float(np.mean(replay)), 4) if replay else None,
        "n_clips": len(per_clip),
        "ms_per_frame": round(ms / max(frames, 1), 2),
        "clips": per_clip,
    }


def evaluate_liveness(
    clips: Path,
    annotations: Path,
    attacks: list[Path] | None = None,
    params: LivenessConfig | None = None,
    jobs: int | None = None,
    hand_wave: bool = False,
    attack_face_px: tuple[int, ...] = (),
) -> dict:
    """The clips' figures and, with ``attacks``, the attack sets' (see :mod:`.liveness_attacks`)."""
    from facegate.evaluation.liveness_attacks import evaluate_attacks

    params = params or LivenessConfig()
    report = evaluate_clips(clips, read_annotations(annotations), params)
    report.update({"apcer": None, "n_attacks": 0})
    if attacks:
        report.update(
            evaluate_attacks(
                attacks, params, jobs or os.cpu_count() or 1, hand_wave, attack_face_px
            )
        )
    return report


def format_report(r: dict) -> str:
    lines = [
        f"blink recall     {r['blink_recall']:.1%} ({r['blinks_found']}/{r['blinks_annotated']})",
        f"blink precision  {r['blink_precision']:.1%} ({r['false_alarms']} false alarms)",
        f"closures counted as blinks: {r['closures_detected']}/{r['closures']}",
        f"genuine pass rate {r['genuine_pass_rate']:.1%} of {r['n_genuine_with_blink']} clips "
        "with a blink (no challenge)",
        f"replayed clip passes a random challenge: {r['replay_challenge_pass_rate']:.1%} "
        "(mean over the clips with a blink)",
        f"{r['n_clips']} clips, {r['ms_per_frame']} ms per frame (tracking + landmarks)",
    ]
    for key, c in r["clips"].items():
        if "hits" in c:
            lines.append(
                f"  {key}: {c['hits']}/{c['annotated']} found, false {c['false_alarms']}, "
                f"closures {c['closures_detected']}/{c['closures']}, "
                f"liveness {c.get('liveness', {}).get('outcome', '-')}"
            )
        else:
            lines.append(f"  {key}: not annotated, {c['blinks_detected']} blinks detected")
    if r.get("n_attacks"):
        lines.append(
            f"attacks: {len(r['attacks_accepted'])}/{r['n_attacks']} accepted "
            f"(APCER {r['apcer']:.2%}); outcomes {r['attack_outcomes']}"
        )
        if r.get("hand_wave_attacks"):
            lines.append(
                f"  of which hand waved over the eyes: {r['hand_wave_accepted']}/"
                f"{r['hand_wave_attacks']} accepted; outcomes {r['hand_wave_outcomes']}"
            )
        for px, a in r.get("small_face_attacks", {}).items():
            lines.append(
                f"  stills printed with a {px} px face (median tracked {a['face_px_median']} px): "
                f"{len(a['accepted'])}/{a['n']} accepted; outcomes {a['outcomes']}"
            )
        for v in r["videos"]:
            lines.append(
                f"  video {v['path']}: {v['outcome']} {v['reasons']}, blinks at "
                f"{v['blink_times']} s, passes a random challenge "
                f"{v['replay']['pass_rate']:.1%}"
            )
    return "\n".join(lines)
