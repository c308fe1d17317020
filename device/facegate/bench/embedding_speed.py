"""Embedding speed: FaceNet int8 and float (LiteRT) and dlib's ResNet, interleaved.

The models run in turns, round after round, on the same crops, so that a noisy shared machine
slows all of them alike; the speed-up of int8 over float is taken per round, then the median.
"""

from __future__ import annotations

import platform
import statistics
import time

from facegate.bench.faces import benchmark_faces
from facegate.config import Settings
from facegate.errors import ModelFileError
from facegate.vision.crops import facenet_crop
from facegate.vision.embedders import create_embedder


def measure_embedding_speed(settings: Settings, rounds: int = 7, per_round: int = 10) -> dict:
    models_dir, threads = settings.paths.models_dir, settings.embedder.threads
    embedders = {"facenet-int8": create_embedder("facenet", models_dir, threads)}
    skipped = {}
    try:
        embedders["facenet-float"] = create_embedder("facenet-float", models_dir, threads)
    except ModelFileError as exc:
        skipped["facenet-float"] = str(exc)
    embedders["dlib-resnet"] = create_embedder("dlib", models_dir, threads)

    faces = benchmark_faces(per_round)
    crops = [facenet_crop(image, face.box) for image, face in faces]

    def one_round(name: str) -> float:
        emb = embedders[name]
        start = time.perf_counter()
        if name.startswith("facenet"):
            for crop in crops:
                emb.embed_crop(crop)  # type: ignore[attr-defined]
        else:
            for image, face in faces:
                emb.embed(image, face)
        return (time.perf_counter() - start) * 1000.0 / len(faces)

    for name in embedders:
        one_round(name)  # warm-up: first invocations allocate and pack weights
    times: dict[str, list[float]] = {name: [] for name in embedders}
    for _ in range(rounds):
        for name in embedders:
            times[name].append(one_round(name))
    result: dict = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "threads": threads,
        "rounds": rounds,
        "per_round": per_round,
        "ms_per_embedding": {n: round(statistics.median(t), 2) for n, t in times.items()},
        "ms_min": {n: round(min(t), 2) for n, t in times.items()},
        "note": "FaceNet: one inference pass; facegate embeds a face as it is and mirrored "
        "(two passes). dlib: one descriptor, including its 5-point alignment.",
        "skipped": skipped,
    }
    if "facenet-float" in times:
        ratios = [f / i for f, i in zip(times["facenet-float"], times["facenet-int8"], strict=True)]
        result["int8_speedup_over_float"] = round(statistics.median(ratios), 2)
    return result


def format_speed(r: dict) -> str:
    lines = [
        f"{r['machine']}, {r['threads']} thread(s), median of {r['rounds']} rounds x "
        f"{r['per_round']} faces"
    ]
    for name, ms in r["ms_per_embedding"].items():
        lines.append(
            f"  {name:<15} {ms:8.2f} ms per embedding (best round {r['ms_min'][name]:.2f})"
        )
    if "int8_speedup_over_float" in r:
        lines.append(
            f"  int8 is {r['int8_speedup_over_float']:.2f}x faster than float "
            "(median of per-round ratios)"
        )
    for name, why in r["skipped"].items():
        lines.append(f"  {name}: skipped ({why})")
    lines.append(f"  note: {r['note']}")
    return "\n".join(lines)
