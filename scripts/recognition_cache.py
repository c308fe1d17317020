"""Cache detections and embeddings of the identity sets on disk, for the recognition study.

MTCNN on a whole photo is the slow part (0.1-0.2 s on this machine), so detections are cached
once per set; each embedding variant is then a cheap pass over the cached boxes. The cache lives
outside the repository (``~/.cache/facegate-eval`` or ``$FACEGATE_EVAL_CACHE``) and holds no
photos, only boxes, keypoints and vectors.

    .venv/bin/python scripts/recognition_cache.py ../shared/data/identities/celeba278 \\
        [--variant facenet --variant facenet-aligned --variant dlib]

Variants: ``facenet`` (the shipped crop: MTCNN box + FaceNet's margin, flip-averaged),
``facenet-aligned`` (5-point similarity alignment onto the mean keypoint layout of that crop),
``facenet-noflip``, ``dlib`` (dlib's own 5-point chip on the MTCNN box).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from facegate.config import Settings
from facegate.evaluation.dataset import scan_identities
from facegate.vision.crops import FACENET_MARGIN_RATIO, FACENET_SIZE, facenet_crop
from facegate.vision.detection import Box, Detection, main_face
from facegate.vision.image_io import load_image
from facegate.vision.pipeline import FacePipeline

CACHE = Path(os.environ.get("FACEGATE_EVAL_CACHE", Path.home() / ".cache" / "facegate-eval"))


def set_dir(root: Path) -> Path:
    out = CACHE / Path(root).resolve().name
    out.mkdir(parents=True, exist_ok=True)
    return out


def detections(root: Path, pipeline: FacePipeline) -> dict[str, np.ndarray]:
    """Main face per photo (box, five keypoints, score), chosen by ``main_face`` from every
    MTCNN face of the photo; all faces are cached so that the choice can change cheaply."""
    path = set_dir(root) / "faces.npz"
    if not path.exists():
        dataset = scan_identities(root)
        files = dataset.all_paths()
        rows, shape = [], np.zeros((len(files), 2), np.int32)
        started = time.perf_counter()
        for i, f in enumerate(tqdm(files, desc=f"mtcnn {root.name}", unit="photo")):
            image = load_image(f)
            shape[i] = image.shape[:2]
            for d in pipeline.mtcnn.detect(image):
                b = d.box
                rows.append([i, b.x, b.y, b.w, b.h, d.score, *d.keypoints.reshape(-1)])
        rel = np.array([str(f.relative_to(root)) for f in files])
        np.savez(path, paths=rel, faces=np.array(rows, np.float32).reshape(-1, 16), shape=shape)
        print(f"{root.name}: {len(files)} photos detected in {time.perf_counter() - started:.0f} s")
    cached = np.load(path, allow_pickle=False)
    n = len(cached["paths"])
    box = np.full((n, 4), np.nan, np.float32)
    kps = np.full((n, 5, 2), np.nan, np.float32)
    score = np.full(n, np.nan, np.float32)
    faces = cached["faces"]
    for i in range(n):
        mine = faces[faces[:, 0] == i]
        found = [Detection(Box(*r[1:5]), float(r[5]), "mtcnn", r[6:].reshape(5, 2)) for r in mine]
        h, w = cached["shape"][i]
        face = main_face(found, int(w), int(h))
        if face is not None:
            box[i] = (face.box.x, face.box.y, face.box.w, face.box.h)
            kps[i], score[i] = face.keypoints, face.score
    return {"paths": cached["paths"], "box": box, "kps": kps, "score": score}


def mean_layout(dets: dict[str, np.ndarray]) -> np.ndarray:
    """Mean keypoint positions inside the shipped FaceNet crop (160 px), over a set."""
    pts = []
    for b, k in zip(dets["box"], dets["kps"], strict=True):
        if np.isnan(b[0]):
            continue
        region = Box(*b).expanded(FACENET_MARGIN_RATIO)
        pts.append((k - [region.x, region.y]) * [FACENET_SIZE / region.w, FACENET_SIZE / region.h])
    return np.mean(pts, axis=0).astype(np.float32)


def aligned_crop(image: np.ndarray, kps: np.ndarray, layout: np.ndarray) -> np.ndarray:
    matrix, _ = cv2.estimateAffinePartial2D(kps, layout, method=cv2.LMEDS)
    crop = cv2.warpAffine(image, matrix, (FACENET_SIZE, FACENET_SIZE), flags=cv2.INTER_LINEAR)
    return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)


def embed_variant(
    root: Path, variant: str, layout: np.ndarray | None = None, people: int | None = None
) -> None:
    """Embed every main face (of the first ``people`` people only, when given: the study then
    uses only the photos every variant it needs has); rows whose box has not changed since
    the last run are kept."""
    out = set_dir(root) / f"{variant}.npz"
    name = "dlib" if variant == "dlib" else "facenet"
    pipeline = FacePipeline.from_settings(Settings(), detector="mtcnn", embedder=name)
    dets = detections(root, pipeline)
    emb = np.full((len(dets["paths"]), pipeline.embedder.dim), np.nan, np.float32)
    todo = np.flatnonzero(~np.isnan(dets["box"][:, 0]))
    if people is not None:
        names = sorted({str(p).split("/")[0] for p in dets["paths"]})[:people]
        todo = np.array([i for i in todo if str(dets["paths"][i]).split("/")[0] in names], int)
    if out.exists():
        old = np.load(out)
        if "box" in old and len(old["box"]) == len(emb):
            same = np.all(old["box"] == dets["box"], axis=1) & np.isfinite(old["emb"]).all(axis=1)
            emb[same] = old["emb"][same]
            todo = np.array([i for i in todo if not same[i]], dtype=int)
    if todo.size == 0:
        return
    started = time.perf_counter()
    for i in tqdm(todo, desc=f"{variant} {root.name}", unit="photo"):
        image = load_image(root / str(dets["paths"][i]))
        det = Detection(Box(*dets["box"][i]), float(dets["score"][i]), "mtcnn", dets["kps"][i])
        if variant == "facenet-aligned":
            emb[i] = pipeline.embedder.embed_face_crop(aligned_crop(image, det.keypoints, layout))
        elif variant == "facenet-noflip":
            emb[i] = pipeline.embedder.embed_crop(facenet_crop(image, det.box))
        else:
            emb[i] = pipeline.embedder.embed(image, det)
    np.savez(out, paths=dets["paths"], emb=emb, box=dets["box"])
    per = (time.perf_counter() - started) / todo.size
    print(f"{root.name} {variant}: {todo.size} photos, {per * 1000:.1f} ms a photo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", type=Path, nargs="+")
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--layout-from", type=Path, help="Set whose mean layout aligns all sets.")
    parser.add_argument("--people", type=int, help="Embed the first N people of each set only.")
    args = parser.parse_args()
    pipeline = FacePipeline.from_settings(Settings(), detector="mtcnn")
    for root in args.sets:
        np.savez(set_dir(root) / "main_faces.npz", **detections(root, pipeline))
    saved = CACHE / "facenet_layout.npy"
    if not saved.exists():  # fixed once: the aligned rows cached so far were made with it
        np.save(saved, mean_layout(detections(args.layout_from or args.sets[0], pipeline)))
    layout = np.load(saved)
    for variant in args.variant or ["facenet"]:
        for root in args.sets:
            embed_variant(root, variant, layout, args.people)


if __name__ == "__main__":
    main()
