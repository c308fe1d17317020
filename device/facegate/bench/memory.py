"""Resident memory of a fresh process holding every model a door needs for recognition."""

from __future__ import annotations

import json
import subprocess
import sys

from facegate.config import Settings

_PROBE = r"""
import json, sys
from facegate.config import Settings
from facegate.vision.pipeline import FacePipeline
from facegate.bench.faces import benchmark_faces

def status():
    out = {}
    for line in open("/proc/self/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024.0
    return out

settings = Settings.model_validate_json(sys.argv[1])
before = status()
pipeline = FacePipeline.from_settings(settings)
image, face = benchmark_faces(1)[0]
for det in pipeline.detect(image):
    pipeline.predict_landmarks(image, det)
pipeline.embed(image, face)
after = status()
print(json.dumps(
    {"rss_before_mb": before["VmRSS"], "rss_mb": after["VmRSS"], "peak_mb": after["VmHWM"]}
))
"""


def measure_memory(settings: Settings, embedders: tuple[str, ...] = ("facenet", "dlib")) -> dict:
    """Spawn one process per embedder; report its RSS after loading and one embedding."""
    results = {}
    for name in embedders:
        s = settings.model_copy(
            update={"embedder": settings.embedder.model_copy(update={"name": name})}
        )
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, s.model_dump_json()],
            capture_output=True,
            text=True,
            check=True,
        )
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "loaded": "Haar + MTCNN detectors, dlib 68 landmarks, embedder",
        "per_embedder": results,
    }


def format_memory(r: dict) -> str:
    lines = [f"fresh process with {r['loaded']}, after one embedding:"]
    for name, m in r["per_embedder"].items():
        lines.append(
            f"  {name:<10} RSS {m['rss_mb']:7.1f} MB   peak {m['peak_mb']:7.1f} MB   "
            f"(interpreter alone {m['rss_before_mb']:.1f} MB)"
        )
    return "\n".join(lines)
