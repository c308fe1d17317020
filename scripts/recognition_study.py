"""The recognition study: open-set FAR/FRR against gallery size for several decision rules.

Reads the embeddings cached by ``scripts/recognition_cache.py`` (nothing is embedded here) and
prints, for each rule and gallery size, the genuine reject rate where strangers are accepted
at most 1% of the time (the threshold chosen on the very trials: an upper bound), and the
figures at a threshold calibrated on *other people* (the two halves of the set's identities
calibrate each other), which is what a shipped threshold would see.

    .venv/bin/python scripts/recognition_study.py celeba278 [--variant facenet] [--rule ...]

Protocol per gallery size G: draw G people as the enrolled gallery (several draws), the rest
of the set are strangers (all their photos are probes); each enrolled person's photos are
split 80/20 (rotated between draws), the 80% are templates and the 20% genuine probes. For
the whole set (G = all) strangers come from a 5-fold leave-identities-out rotation, as in
``facegate eval identities``. A genuine probe counts as accepted only when it is accepted as
its own person; strangers count when accepted as anyone.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("FACEGATE_EVAL_CACHE", Path.home() / ".cache" / "facegate-eval"))


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


@dataclass
class Faces:
    labels: np.ndarray  # person per row ('' for unknown-probe folders)
    emb: dict[str, np.ndarray]  # variant -> unit rows
    quality: np.ndarray  # MTCNN face size in pixels (short side)


def load(name: str, variants: list[str]) -> Faces:
    d = CACHE / name
    det = np.load(d / "main_faces.npz")
    ok = ~np.isnan(det["box"][:, 0])
    embs = {}
    for v in variants:
        e = np.load(d / f"{v}.npz")["emb"]
        ok &= np.isfinite(e).all(axis=1)
        embs[v] = e
    paths = det["paths"][ok]
    labels = np.array(["" if p.startswith("_") else p.split("/")[0] for p in paths])
    size = np.minimum(det["box"][ok, 2], det["box"][ok, 3])
    return Faces(labels, {v: unit(e[ok].astype(np.float64)) for v, e in embs.items()}, size)


@dataclass
class Gallery:
    people: np.ndarray
    templates: dict[str, np.ndarray]  # variant -> (t, d)
    owner: np.ndarray  # template -> person index
    quality: np.ndarray

    def centroids(self, variant: str, weights: np.ndarray | None = None) -> np.ndarray:
        t = self.templates[variant]
        w = np.ones(len(t)) if weights is None else weights
        c = np.zeros((len(self.people), t.shape[1]))
        np.add.at(c, self.owner, t * w[:, None])
        return unit(c)


# A rule maps (gallery, probe rows by variant) to (best person index, score; lower = accept).
Rule = Callable[[Gallery, dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]


def _nearest(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(d, axis=1)[:, :2]
    rows = np.arange(len(d))
    d1 = d[rows, order[:, 0]]
    d2 = d[rows, order[:, 1]] if d.shape[1] > 1 else np.full(len(d), 2.0)
    return order[:, 0], d1, d2


def centroid_rule(variant: str = "facenet") -> Rule:
    def rule(g: Gallery, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        best, d1, _ = _nearest(1.0 - p[variant] @ g.centroids(variant).T)
        return best, d1

    return rule


def margin_rule(alpha: float, variant: str = "facenet") -> Rule:
    """d1 - alpha * (d2 - d1): a close second-best pushes the score up."""

    def rule(g: Gallery, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        best, d1, d2 = _nearest(1.0 - p[variant] @ g.centroids(variant).T)
        return best, d1 - alpha * (d2 - d1)

    return rule


def hard_margin_rule(margin: float, variant: str = "facenet") -> Rule:
    """The shipped rule: the distance, unless the second-nearest is within ``margin``."""

    def rule(g: Gallery, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        best, d1, d2 = _nearest(1.0 - p[variant] @ g.centroids(variant).T)
        return best, np.where(d2 - d1 >= margin, d1, np.inf)

    return rule


def tnorm_rule(k: int | None = None, variant: str = "facenet") -> Rule:
    """Probe-side normalisation by the mean/std of its distances to the gallery (or its k
    nearest): how unusual is the best score for this probe."""

    def rule(g: Gallery, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        d = 1.0 - p[variant] @ g.centroids(variant).T
        best, d1, _ = _nearest(d)
        cohort = np.sort(d, axis=1)[:, 1 : (k + 1 if k else None)]
        mu, sd = cohort.mean(axis=1), cohort.std(axis=1) + 1e-6
        return best, (d1 - mu) / sd

    return rule


def znorm_rule(variant: str = "facenet") -> Rule:
    """Template-side normalisation: each centroid's distances to the other people's templates
    (the gallery as its own cohort) give its impostor mean and spread."""

    def rule(g: Gallery, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        c = g.centroids(variant)
        imp = 1.0 - c @ g.templates[variant].T
        own = g.owner[None, :] == np.arange(len(c))[:, None]
        imp = np.where(own, np.nan, imp)
        mu, sd = np.nanmean(imp, axis=1), np.nanstd(imp, axis=1) + 1e-6
        best, d1, _ = _nearest(1.0 - p[variant] @ c.T)
        return best, (d1 - mu[best]) / sd[best]

    return rule


def template_rule(kind: str, variant: str = "facenet") -> Rule:
    """Per-person score from the templates: nearest one, or mean distance to all."""

    def rule(g: Gallery, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        d = 1.0 - p[variant] @ g.templates[variant].T
        per = np.full((len(d), len(g.people)), np.inf if kind == "min" else 0.0)
        if kind == "min":
            np.minimum.at(per.T, g.owner, d.T)
        else:
            np.add.at(per.T, g.owner, d.T)
            per /= np.bincount(g.owner, minlength=len(g.people))[None, :]
        best, d1, _ = _nearest(per)
        return best, d1

    return rule


def quality_rule(variant: str = "facenet") -> Rule:
    """Centroid with templates weighted by face size (small faces count less)."""

    def rule(g: Gallery, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        w = np.clip(g.quality / 100.0, 0.2, 1.0)
        best, d1, _ = _nearest(1.0 - p[variant] @ g.centroids(variant, w).T)
        return best, d1

    return rule


def fusion_rule(a: str, b: str, scale_b: float) -> Rule:
    """Sum of two embedders' centroid distances, b's scaled onto a's range."""

    def rule(g: Gallery, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        d = (1.0 - p[a] @ g.centroids(a).T) + scale_b * (1.0 - p[b] @ g.centroids(b).T)
        best, d1, _ = _nearest(d)
        return best, d1 / 2

    return rule


def ztnorm_rule(variant: str = "facenet") -> Rule:
    """T-norm of the probe after Z-norm of each centroid (both cohorts: the gallery)."""
    z = znorm_rule(variant)

    def rule(g: Gallery, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        c = g.centroids(variant)
        imp = 1.0 - c @ g.templates[variant].T
        own = g.owner[None, :] == np.arange(len(c))[:, None]
        imp = np.where(own, np.nan, imp)
        mu, sd = np.nanmean(imp, axis=1), np.nanstd(imp, axis=1) + 1e-6
        zd = ((1.0 - p[variant] @ c.T) - mu[None, :]) / sd[None, :]
        best, d1, _ = _nearest(zd)
        rest = np.sort(zd, axis=1)[:, 1:]
        return best, (d1 - rest.mean(axis=1)) / (rest.std(axis=1) + 1e-6)

    del z
    return rule


def tnorm_fusion_rule(a: str, b: str) -> Rule:
    """Sum of the two embedders' T-normed distances."""

    def rule(g: Gallery, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        total = 0.0
        for v in (a, b):
            d = 1.0 - p[v] @ g.centroids(v).T
            total = total + (d - d.mean(axis=1, keepdims=True)) / (
                d.std(axis=1, keepdims=True) + 1e-6
            )
        best, d1, _ = _nearest(total)
        return best, d1

    return rule


RULES: dict[str, Callable[[], Rule]] = {
    "hard-margin0.12": lambda: hard_margin_rule(0.12),
    "dlib-hard-margin": lambda: hard_margin_rule(0.03, "dlib"),
    "ztnorm": lambda: ztnorm_rule(),
    "tnorm-fusion": lambda: tnorm_fusion_rule("facenet", "dlib"),
    "dlib-tnorm": lambda: tnorm_rule(None, "dlib"),
    "centroid": lambda: centroid_rule(),
    "margin0.5": lambda: margin_rule(0.5),
    "margin1": lambda: margin_rule(1.0),
    "margin2": lambda: margin_rule(2.0),
    "tnorm": lambda: tnorm_rule(),
    "tnorm20": lambda: tnorm_rule(20),
    "znorm": lambda: znorm_rule(),
    "nearest-template": lambda: template_rule("min"),
    "mean-template": lambda: template_rule("mean"),
    "quality-centroid": lambda: quality_rule(),
    "aligned": lambda: centroid_rule("facenet-aligned"),
    "aligned-margin1": lambda: margin_rule(1.0, "facenet-aligned"),
    "dlib": lambda: centroid_rule("dlib"),
    "dlib-margin1": lambda: margin_rule(1.0, "dlib"),
    "fusion": lambda: fusion_rule("facenet", "dlib", 0.35 / 0.049),
}
VARIANTS = {
    "aligned": ["facenet-aligned"],
    "aligned-margin1": ["facenet-aligned"],
    "dlib": ["dlib"],
    "dlib-margin1": ["dlib"],
    "fusion": ["dlib"],
    "tnorm-fusion": ["dlib"],
    "dlib-tnorm": ["dlib"],
    "dlib-hard-margin": ["dlib"],
}


@dataclass
class Trial:
    gallery: Gallery
    probes: np.ndarray  # row indices into Faces
    truth: np.ndarray  # gallery person index, or -1 for a stranger


def _gallery(faces: Faces, people: list[str], test: dict[str, np.ndarray]) -> Gallery:
    rows, owner = [], []
    for i, person in enumerate(people):
        idx = np.setdiff1d(np.flatnonzero(faces.labels == person), test[person])
        rows.append(idx)
        owner += [i] * len(idx)
    r = np.concatenate(rows)
    return Gallery(
        np.array(people),
        {v: e[r] for v, e in faces.emb.items()},
        np.array(owner),
        faces.quality[r],
    )


def trials(faces: Faces, people: list[str], size: int, draws: int, seed: int) -> list[Trial]:
    """Galleries of ``size`` of ``people`` (all: leave-identities-out for strangers)."""
    rng = np.random.default_rng(seed)
    parts = {}
    for person in people:
        idx = rng.permutation(np.flatnonzero(faces.labels == person))
        parts[person] = [p for p in np.array_split(idx, 5) if p.size]
    unknown = np.flatnonzero(faces.labels == "")
    out = []

    def genuine(enrolled: list[str], r: int) -> Trial:
        test = {p: parts[p][r % len(parts[p])] for p in enrolled}
        probes = np.concatenate([test[p] for p in enrolled])
        truth = np.concatenate([[i] * len(test[p]) for i, p in enumerate(enrolled)])
        return Trial(_gallery(faces, enrolled, test), probes, truth)

    if size >= len(people):
        order = list(rng.permutation(people))
        for r in range(5):
            t = genuine(list(people), r)
            left = set(order[r::5])
            enrolled = [p for p in people if p not in left]
            g = _gallery(faces, enrolled, {p: parts[p][r % len(parts[p])] for p in enrolled})
            strangers = np.concatenate([np.flatnonzero(np.isin(faces.labels, list(left))), unknown])
            out += [t, Trial(g, strangers, np.full(len(strangers), -1))]
        return out
    for r in range(draws):
        enrolled = list(rng.choice(people, size, replace=False))
        t = genuine(enrolled, r)
        others = np.flatnonzero(~np.isin(faces.labels, enrolled) & (faces.labels != ""))
        strangers = np.concatenate([others, unknown])
        out.append(
            Trial(
                t.gallery,
                np.concatenate([t.probes, strangers]),
                np.concatenate([t.truth, np.full(len(strangers), -1)]),
            )
        )
    return out


@dataclass
class Scores:
    genuine: np.ndarray  # score when the best is the right person, else +inf
    genuine_raw: np.ndarray  # the best's score whoever it is
    stranger: np.ndarray

    @property
    def accuracy(self) -> float:
        return float(np.mean(np.isfinite(self.genuine)))

    def at(self, t: float) -> tuple[float, float, float]:
        """FAR, FRR (not accepted as self), misidentified (accepted as someone else)."""
        far = float(np.mean(self.stranger <= t))
        frr = float(np.mean(~(self.genuine <= t)))
        mis = float(np.mean(~np.isfinite(self.genuine) & (self.genuine_raw <= t)))
        return far, frr, mis

    def threshold_at_far(self, target: float = 0.01) -> float:
        s = np.sort(self.stranger)
        k = int(np.floor(target * s.size))
        if k >= s.size or not np.isfinite(s[k]):
            return 1.99  # the margin alone keeps strangers under the target
        return float(np.nextafter(s[k], -np.inf))


def score(rule: Rule, ts: list[Trial], faces: Faces) -> Scores:
    gen, raw, strange = [], [], []
    for t in ts:
        best, s = rule(t.gallery, {v: e[t.probes] for v, e in faces.emb.items()})
        g = t.truth >= 0
        raw.append(s[g])
        gen.append(np.where(best[g] == t.truth[g], s[g], np.inf))
        strange.append(s[~g])
    return Scores(np.concatenate(gen), np.concatenate(raw), np.concatenate(strange))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set")
    parser.add_argument("--rule", action="append", choices=sorted(RULES))
    parser.add_argument("--sizes", default="10,50,100,all")
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rules = args.rule or ["centroid"]
    variants = sorted({"facenet", *(v for r in rules for v in VARIANTS.get(r, []))})
    faces = load(args.set, variants)
    people = sorted(set(faces.labels) - {""})
    rng = np.random.default_rng(args.seed)
    halves = np.array_split(rng.permutation(people), 2)
    sizes = [len(people) if s == "all" else int(s) for s in args.sizes.split(",")]
    sizes = [s for s in sizes if s <= len(people)]
    print(f"{args.set}: {len(people)} people, {len(faces.labels)} faces with a face found")
    print(
        f"{'rule':<18}{'G':>5}{'closed':>8}{'t@1%':>8}{'FRR@1%':>8}"
        f"{'| cross t':>10}{'FAR':>7}{'FRR':>7}{'mis':>6}"
    )
    for name in rules:
        report(name, RULES[name](), faces, people, halves, sizes, args.draws, args.seed)


def report(name: str, rule: Rule, faces: Faces, people: list[str], halves: list[np.ndarray],
           sizes: list[int], draws: int, seed: int) -> None:  # fmt: skip
    """One row per size; each half (all of it enrolled) calibrates the other's "cross"."""
    cal = [
        score(rule, trials(faces, list(h), len(h), 1, seed), faces).threshold_at_far()
        for h in halves
    ]
    for size in sizes:
        s = score(rule, trials(faces, people, size, draws, seed), faces)
        t = s.threshold_at_far()
        _, frr, _ = s.at(t)
        cross = []
        for h, tc in zip(halves, reversed(cal), strict=True):
            if size <= len(h):
                sh = score(rule, trials(faces, list(h), size, draws, seed), faces)
                cross.append(sh.at(tc))
        c = np.mean(cross, axis=0) if cross else (np.nan,) * 3
        print(
            f"{name:<18}{size:>5}{s.accuracy:>8.2%}{t:>8.3f}{frr:>8.2%}"
            f"{'| ' + format(np.mean(cal), '.3f'):>10}{c[0]:>7.2%}{c[1]:>7.2%}{c[2]:>6.2%}"
        )


if __name__ == "__main__":
    main()
