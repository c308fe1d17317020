"""Strangers from video: how often would one person's frames pass as another person?

Each video shows one person (the blink clips and the webcam clip in ../shared/data). Every
5th frame is embedded; each person's frames are shown as a stranger to a gallery of all the
*other* people, as the matcher decides (nearest centroid, margin). Prints the false-accept
rate at the shipped rule and the threshold that a 1% target would need on this population.

    .venv/bin/python scripts/video_impostors.py ../shared/data/blink/liveportrait/*.mp4 \\
        ../shared/data/spoof/webcam_replay/real.mov [--embedder facenet]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from facegate.config import Settings
from facegate.identity.calibration import open_set_scores, threshold_for_far
from facegate.identity.thresholds import shipped_rule
from facegate.vision.pipeline import FacePipeline
from facegate.vision.video import video_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("videos", type=Path, nargs="+")
    parser.add_argument("--embedder", default="facenet")
    parser.add_argument("--every", type=int, default=5)
    args = parser.parse_args()

    pipeline = FacePipeline.from_settings(Settings(), detector="mtcnn", embedder=args.embedder)
    labels: list[str] = []
    vectors: list[np.ndarray] = []
    for video in args.videos:
        for frame in video_frames(video, args.every):
            faces = pipeline.mtcnn.detect(frame)
            if faces:
                face = max(faces, key=lambda d: d.box.area)
                vectors.append(pipeline.embedder.embed(frame, face))
                labels.append(video.name)
    rule = shipped_rule(args.embedder)
    scores = open_set_scores(labels, np.vstack(vectors), rule.margin).impostor
    people = len(set(labels))
    shipped = rule.threshold_for(people - 1)
    t1, _ = threshold_for_far(scores, 0.01)
    print(f"{len(vectors)} frames of {people} people, each a stranger to the other {people - 1}")
    print(f"closest stranger {scores.min():.3f}")
    print(
        f"FAR at the shipped threshold for {people - 1} students ({shipped:.3f}): "
        f"{np.mean(scores <= shipped):.2%}"
    )
    print(f"threshold for FAR 1% on this population: {t1:.3f}")


if __name__ == "__main__":
    main()
