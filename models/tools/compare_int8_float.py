"""How far is the int8 FaceNet from the float model it was converted from?

For every photo of a folder-per-person set: the cosine similarity between the int8 and float
embeddings of the same face (1.0 = identical). Needs models/build/facenet_float32.tflite
(built by build_facenet.py).

    .venv/bin/python models/compare_int8_float.py ../shared/data/identities/lfw10
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from facegate.config import Settings
from facegate.evaluation.dataset import scan_identities
from facegate.evaluation.embedding import embed_photos
from facegate.vision.pipeline import FacePipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directories", type=Path, nargs="+")
    args = parser.parse_args()
    for directory in args.directories:
        paths = scan_identities(directory).all_paths()
        runs = {}
        for name in ("facenet", "facenet-float"):
            pipeline = FacePipeline.from_settings(Settings(), detector="mtcnn", embedder=name)
            runs[name] = embed_photos(pipeline, paths, progress=False)
        cos = np.array(
            [
                float(runs["facenet"][p] @ runs["facenet-float"][p])
                for p in paths
                if runs["facenet"][p] is not None and runs["facenet-float"][p] is not None
            ]
        )
        print(
            f"{directory}: {cos.size} faces, cosine(int8, float) mean {cos.mean():.4f}, "
            f"min {cos.min():.4f}, 5th percentile {np.percentile(cos, 5):.4f}"
        )


if __name__ == "__main__":
    main()
