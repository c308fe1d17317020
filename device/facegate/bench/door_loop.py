"""The door benchmark: the per-frame path as the door runs it, a naive peer, blink to relay.

Our stages are timed by proxies around the tracker's detector and landmark predictor, so the
code timed is the door's own. The peer gets the same 640x480 frames, interleaved with ours frame
by frame (a shared, noisy machine then slows both alike). face_recognition's
``examples/facerec_on_raspberry_pi.py`` captures 320x240 RGB and runs ``face_locations`` (HOG,
upsample 1) and ``face_encodings`` (5-point alignment, "small") on every frame it captures; the
peer here aligns with 68 points (~1 ms more) and, at upsample 1 (face_recognition's default,
ours too) on 640x480, HOG scans 1280x960 where the example scans 640x480: ``--peer-upsample 0``
gives the example's scan size. Blink to relay runs the real DoorService on mock pins.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import cv2
import dlib
import numpy as np
from tqdm import tqdm

from facegate.access.flow import Recognise
from facegate.bench.liveness_cost import to_640x480
from facegate.config import Settings
from facegate.demo.roster_file import session_toml
from facegate.door import DoorListener, DoorService
from facegate.errors import FacegateError
from facegate.hardware.pin_factory import make_pin_factory
from facegate.identity.attempt_frames import AttemptFrames
from facegate.identity.enrolment import Enroller
from facegate.identity.gallery import open_configured_gallery
from facegate.liveness.verdict import LivenessCheck
from facegate.vision.haar import HaarFaceDetector
from facegate.vision.landmarks import LandmarkPredictor
from facegate.vision.model_files import DLIB_LANDMARKS_68, DLIB_RESNET, verify
from facegate.vision.perception import Perception
from facegate.vision.pipeline import FacePipeline
from facegate.vision.quality import QualityGate
from facegate.vision.sources import Frame, OpenCVSource
from facegate.vision.tracker import FaceTracker

# The shared clips, relative to where the benchmark runs (the repository's root in a checkout;
# an installed facegate is given the paths, or $FACEGATE_SHARED_DATA).
BLINK = Path(os.environ.get("FACEGATE_SHARED_DATA", "../shared/data")) / "blink"
STAGES = ("grey", "detect", "landmarks", "track_other", "attempt_frames", "liveness", "per_frame")
PEER_STAGES = ("detect", "landmarks", "descriptor", "per_frame")
STUDENT = "bench-student"


def clip_at_640x480(path: Path) -> Generator[Frame]:
    """The clip's frames at 640x480, ``t`` from the file's own frame rate."""
    source = OpenCVSource(path)
    source.open()
    try:
        while (frame := source.read()) is not None:
            yield Frame(to_640x480(frame.image), frame.t, frame.index)
    finally:
        source.close()


def _laps(ms: dict[str, list[float]], stamps: list[float], keys: tuple[str, ...]) -> None:
    """Append the gaps between consecutive perf_counter stamps (ms), and the whole as the last."""
    gaps = [*np.diff(stamps), stamps[-1] - stamps[0]]
    for key, seconds in zip(keys, gaps, strict=True):
        ms[key].append(seconds * 1000)


class _Timed:
    """Stands in for the tracker's detector or landmark predictor; adds up its calls' time."""

    def __init__(self, inner: object) -> None:
        self._inner, self.ms = inner, 0.0

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._inner, name)

        def timed(*args: Any) -> Any:
            t0 = time.perf_counter()
            result = method(*args)
            self.ms += (time.perf_counter() - t0) * 1000
            return result

        return timed


class DoorFrame:
    """The door loop's work on one frame (perception, the attempt's frames, liveness). A new
    liveness check starts as soon as the last has its verdict (the door pauses liveness for
    recognition; this never does)."""

    def __init__(self, settings: Settings, landmarks: LandmarkPredictor) -> None:
        self.det = _Timed(HaarFaceDetector.from_config(settings.detection))
        self.lm = _Timed(landmarks)
        tracker = FaceTracker(
            cast(HaarFaceDetector, self.det), cast(Any, self.lm), settings.detection.rescan_s
        )
        self.perception = Perception(tracker)
        self.params = settings.liveness.model_copy(update={"challenge": False})
        self.frames = AttemptFrames(settings.access.frames_to_embed)
        self.check: LivenessCheck | None = None
        self.ms: dict[str, list[float]] = {k: [] for k in STAGES}

    def run(self, image: np.ndarray, t: float) -> bool:
        self.det.ms = self.lm.ms = 0.0
        t0 = time.perf_counter()
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)  # what Perception.step does first
        t1 = time.perf_counter()
        face = self.perception.step(grey, t)
        t2 = t3 = time.perf_counter()
        if face is not None:
            self.frames.offer(face, image)
            t3 = time.perf_counter()
            if self.check is None or self.check.verdict is not None:
                self.check = LivenessCheck(t, self.params)
            self.check.add(face)
        keys = ("grey", "track_other", "attempt_frames", "liveness", "per_frame")
        _laps(self.ms, [t0, t1, t2, t3, time.perf_counter()], keys)
        self.ms["track_other"][-1] -= self.det.ms + self.lm.ms
        self.ms["detect"].append(self.det.ms)
        self.ms["landmarks"].append(self.lm.ms)
        return face is not None


class _Peer:
    """The naive pipeline: dlib HOG + 68 points + ResNet descriptor (1 jitter) on every frame."""

    def __init__(self, upsample: int) -> None:
        self.upsample, self.hog = upsample, dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(str(verify(DLIB_LANDMARKS_68)))
        self.net = dlib.face_recognition_model_v1(str(verify(DLIB_RESNET)))
        self.ms: dict[str, list[float]] = {k: [] for k in PEER_STAGES}

    def run(self, rgb: np.ndarray) -> bool:
        t0 = time.perf_counter()
        boxes = self.hog(rgb, self.upsample)
        t1 = time.perf_counter()
        shapes = [self.shape(rgb, box) for box in boxes]
        t2 = time.perf_counter()
        for shape in shapes:
            np.array(self.net.compute_face_descriptor(rgb, shape, 1))
        _laps(self.ms, [t0, t1, t2, time.perf_counter()], PEER_STAGES)
        return len(boxes) > 0


def _stages(ms: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {
        k: {f"p{q}": round(float(np.percentile(v, q)), 2) for q in (50, 95)} for k, v in ms.items()
    }


def measure_frames(
    settings: Settings,
    landmarks: LandmarkPredictor,
    videos: list[Path],
    peer: _Peer | None,
    progress: bool = False,
) -> dict:
    """Ours and the peer on every frame, taking turns at going first."""
    door, faces, peer_faces = DoorFrame(settings, landmarks), 0, 0
    for video in tqdm(videos, desc="frame path", unit="clip", disable=not progress):
        door.check = None
        door.perception.reset()
        for frame in clip_at_640x480(video):
            rgb = cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB)  # the peer's camera gives RGB
            peer_faces += peer is not None and frame.index % 2 == 1 and peer.run(rgb)
            faces += door.run(frame.image, frame.t)
            peer_faces += peer is not None and frame.index % 2 == 0 and peer.run(rgb)
    ms, stages = door.ms["per_frame"], _stages(door.ms)
    if not ms:
        raise FacegateError("no frames could be read from the videos given")
    r: dict[str, Any] = {"videos": [str(v) for v in videos], "frames": len(ms)}
    r |= {"frames_with_face": faces, "fps": round(1000 * len(ms) / sum(ms), 1)}
    r |= {f"per_frame_ms_{q}": stages["per_frame"][q] for q in ("p50", "p95")}
    r |= {"stages": stages, "peer": None}
    if peer is not None:
        r["peer"] = {"upsample": peer.upsample, "frames_with_face": peer_faces}
        r["peer"] |= {"stages": _stages(peer.ms), "pipeline": _Peer.__doc__}
        r |= {f"peer_per_frame_ms_{q}": r["peer"]["stages"]["per_frame"][q] for q in ("p50", "p95")}
        r["speedup_vs_peer"] = round(r["peer_per_frame_ms_p50"] / r["per_frame_ms_p50"], 1)
    return r


class PacedClip:
    """A video file played like a camera: live, frames at the clip's own rate, each stamped
    with ``time.monotonic()`` when handed over; ends early once ``stop()`` says so."""

    live = True

    def __init__(self, path: Path, stop: Callable[[], bool]) -> None:
        self.name, self.path, self._stop = f"paced {path}", path, stop
        self.read_at: dict[int, float] = {}
        self._frames: Generator[Frame] | None = None

    def open(self) -> None:
        self._frames, self._start = clip_at_640x480(self.path), time.monotonic()

    def read(self) -> Frame | None:
        frame = next(self._frames, None) if self._frames is not None else None
        if frame is None or self._stop():
            return None
        time.sleep(max(0.0, self._start + frame.t - time.monotonic()))
        t = self.read_at[frame.index] = time.monotonic()
        return Frame(frame.image, t, frame.index)

    def close(self) -> None:
        if self._frames is not None:
            self._frames.close()


def _mark(obj: object, name: str, marks: dict, key: str, when: Callable[[Any], bool]) -> None:
    """Wrap ``obj.name`` to note the monotonic time of its first call whose result passes."""
    method = getattr(obj, name)

    def wrapped(*args: Any) -> Any:
        result = method(*args)
        if when(result):
            marks.setdefault(key, time.monotonic())
        return result

    setattr(obj, name, wrapped)


def door_run(settings: Settings, pipeline: FacePipeline, clip: Path, blinks: list) -> dict:
    """One live-paced run of the real service, timed from the end of the last annotated blink
    read before the flow said 'live' (the blink it counted) to the relay turning on."""
    marks: dict[str, float] = {}
    paced = PacedClip(clip, lambda: time.monotonic() > marks.get("relay_on", 1e18) + 0.2)
    listener, events = DoorListener(), cast(list[dict], [])
    listener.on_event = events.append  # type: ignore[method-assign]

    def source() -> PacedClip:  # DoorService calls this once its relay and flow exist
        _mark(service.relay, "pulse", marks, "relay_on", lambda _: True)
        _mark(service.flow, "on_frame", marks, "live", lambda fx: Recognise in map(type, fx))
        return paced

    service = DoorService(
        settings,
        source=source,
        lockstep=False,
        pipeline=pipeline,
        listener=listener,
        handle_signals=False,
        pin_factory=make_pin_factory("mock"),
    )
    service.run()
    granted = [e for e in events if e["type"] == "access" and e["decision"] == "granted"]
    counted = [b for b in blinks if paced.read_at.get(b[1], 1e18) <= marks.get("live", 0)]
    if not granted or "relay_on" not in marks or not counted:
        return {"granted": bool(granted), "reasons": [e.get("reasons") for e in events]}
    end, live, relay = paced.read_at[counted[-1][1]], marks["live"], marks["relay_on"]
    return {
        "blink": counted[-1],
        "blink_to_relay_ms": round((relay - end) * 1000, 1),
        "blink_to_live_ms": round((live - end) * 1000, 1),
        "live_to_relay_ms": round((relay - live) * 1000, 1),
        "event_latencies_ms": granted[0]["latencies_ms"],
        "frames_dropped": service.capture.frames_dropped,
    }


def _settings(base: Settings, data: Path, roster: Path, challenge: bool) -> Settings:
    d = base.model_dump()
    d["device"] |= {"id": "bench-door", "room": "bench"}
    d["paths"] |= {"data_dir": data, "key_file": None}
    d["hardware"] |= {"pin_factory": "mock", "unlock_s": 1.0}
    d["access"] |= {"roster_file": roster}
    d["liveness"] |= {"challenge": challenge, "challenge_min_blinks": 1, "challenge_max_blinks": 1}
    return Settings.model_validate(d)


def _enrol(base: Settings, pipeline: FacePipeline, clip: Path, work: Path) -> Path:
    """Enrol the clip's person from every 40th frame; roster them in a session now, no 2FA."""
    now, roster = datetime.now(UTC), work / "roster.toml"
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    roster.write_text(session_toml("bench", "bench", start, end, [STUDENT]))
    s = _settings(base, work / "enrolled", roster, False)
    shots = (f.image for f in clip_at_640x480(clip) if f.index % 40 == 0)
    with open_configured_gallery(s.paths, pipeline.embedder.name, pipeline.embedder.dim, True) as g:
        enroller = Enroller(pipeline, QualityGate(s.quality))
        if enroller.enroll_images(g, STUDENT, "B", shots, work).stored < 1:
            raise FacegateError(f"{clip}: no frame of it could be enrolled")
    return roster


def measure_door(
    base: Settings,
    videos: list[Path] | None,
    peer_upsample: int | None,
    runs: int,
    clip: Path,
    progress: bool = False,
) -> dict:
    """Door runs first, then memory (before the peer's models load), then the frame path.

    ``progress``: bars on stderr, updated between runs and clips (never inside a timing)."""
    videos = videos or sorted((BLINK / "liveportrait").glob("*.mp4"))
    notes = clip.parent.parent / "annotations.json"
    key = f"{clip.parent.name}/{clip.name}"
    blinks = json.loads(notes.read_text()).get(key, {}).get("blinks") if notes.exists() else None
    if not videos or not blinks:
        raise FacegateError(f"need videos, and {clip} with blinks in {notes} (see {BLINK})")
    pipeline, r = FacePipeline.from_settings(base), {}
    with tempfile.TemporaryDirectory(prefix="facegate-bench-") as tmp:
        roster = _enrol(base, pipeline, clip, Path(tmp))
        bar = tqdm(total=2 * runs, desc="blink to relay", unit="run", disable=not progress)
        for mode, challenge in (("blink_to_relay", False), ("blink_to_relay_challenge", True)):
            found = []
            for k in range(runs):
                shutil.copytree(Path(tmp) / "enrolled", Path(tmp) / f"{mode}-{k}")
                s = _settings(base, Path(tmp) / f"{mode}-{k}", roster, challenge)
                found.append(door_run(s, pipeline, clip, blinks))
                bar.update()
            values = [f["blink_to_relay_ms"] for f in found if "blink_to_relay_ms" in f]
            r[f"{mode}_ms"] = round(float(np.median(values)), 1) if values else None
            r[mode] = {"clip": str(clip), "runs": found}
        bar.close()
    r["blink_to_relay_challenge"]["note"] = "includes the challenge's settle time after a blink"
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    r["rss_mb"], r["peak_rss_mb"] = (int(status[k].split()[0]) // 1024 for k in ("VmRSS", "VmHWM"))
    r["memory_note"] = "this process after the door runs, before the peer's models load"
    peer = _Peer(peer_upsample) if peer_upsample is not None else None
    return measure_frames(base, pipeline.landmarks, videos, peer, progress) | r


def format_door(r: dict) -> str:
    lines = [f"{r['frames']} frames of {len(r['videos'])} clip(s) at 640x480, ms p50 / p95:"]
    for name, stages in (("ours", r["stages"]), ("peer", (r["peer"] or {}).get("stages", {}))):
        lines += [f"  {name} {k:<12} {v['p50']:7.2f} {v['p95']:7.2f}" for k, v in stages.items()]
    lines.append(f"sustained {r['fps']:.1f} frames/s (one thread), face in {r['frames_with_face']}")
    if r["peer"]:
        lines.append(
            f"ours {r['speedup_vs_peer']}x faster (p50; HOG upsample {r['peer']['upsample']})"
        )
    for key in ("blink_to_relay", "blink_to_relay_challenge"):
        values = [x.get("blink_to_relay_ms") for x in r[key]["runs"]]
        lines.append(f"{key}: median {r[key + '_ms']} ms, runs {values}")
    lines.append("  (with a 1-blink challenge the door also waits its settle time)")
    lines.append(f"memory: RSS {r['rss_mb']} MB, peak {r['peak_rss_mb']} MB (before the peer)")
    return "\n".join(lines)
