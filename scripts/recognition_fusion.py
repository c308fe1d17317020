"""FaceNet + dlib score fusion with a weight chosen on other people, and dlib's shipped rule.

The recognition study (``recognition_study.py``) measures rules with no free parameter; a
fusion needs a weight, and a weight picked on the people it is then judged on flatters it.
Here each half of the set's identities (the study's halves, same seed) picks the weight on
its own people, and the figures are measured on the *other* half with that weight, and with
the threshold that half calibrated. The whole set (G = all) with each half's weight is
printed too, marked: half of its people chose the weight.

    .venv/bin/python scripts/recognition_fusion.py celeba278 [--sizes 10,50,100,all]

Fusion score: each embedder's distances to the centroids are z-scored by the gallery's own
impostor distances (every centroid against the other students' templates: known at
enrolment, no probe needed), then ``(1 - w) * z_facenet + w * z_dlib``. Also printed: the
untuned equal-weight fusion and dlib's shipped open-set rule (threshold for the gallery's
size, from ``facegate.identity.thresholds``) under the study's protocol, and any of the
study's rules (``--rule``), so that all of them can be measured with ``--same-person``.
"""

from __future__ import annotations

import argparse

import numpy as np
from recognition_study import (
    RULES,
    Faces,
    Gallery,
    Rule,
    _nearest,
    load,
    report,
    score,
    trials,
)

from facegate.identity.thresholds import shipped_rule

WEIGHTS = np.round(np.arange(0.0, 1.0001, 0.05), 2)


def impostor_stats(g: Gallery, variant: str) -> tuple[float, float]:
    """Mean and spread of centroid-to-other-students'-template distances in this gallery."""
    c = g.centroids(variant)
    d = 1.0 - c @ g.templates[variant].T
    other = g.owner[None, :] != np.arange(len(c))[:, None]
    return float(d[other].mean()), float(d[other].std() + 1e-9)


def zfusion_rule(w: float, a: str = "facenet", b: str = "dlib") -> Rule:
    def rule(g: Gallery, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        total = np.zeros((len(p[a]), len(g.people)))
        for v, weight in ((a, 1.0 - w), (b, w)):
            mu, sd = impostor_stats(g, v)
            total += weight * ((1.0 - p[v] @ g.centroids(v).T) - mu) / sd
        best, d1, _ = _nearest(total)
        return best, d1

    return rule


def shipped_dlib_rule(g: Gallery, p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The door's dlib rule: accepted when the distance is at or below the threshold for this
    many students (scored as distance minus that threshold: accepted at <= 0)."""
    rule = shipped_rule("dlib")
    best, d1, d2 = _nearest(1.0 - p["dlib"] @ g.centroids("dlib").T)
    ok = d2 - d1 >= rule.margin
    return best, np.where(ok, d1 - rule.threshold_for(len(g.people)), np.inf)


def frr_at_far(faces: Faces, people: list[str], rule: Rule, seed: int) -> tuple[float, float]:
    """FRR at FAR 1% and its threshold, everyone in ``people`` enrolled (strangers left out)."""
    s = score(rule, trials(faces, people, len(people), 1, seed), faces)
    t = s.threshold_at_far()
    return s.at(t)[1], t


def choose_weight(faces: Faces, people: list[str], seed: int) -> float:
    curve = [frr_at_far(faces, people, zfusion_rule(w), seed)[0] for w in WEIGHTS]
    print(
        "  FRR@1% by dlib weight: "
        + " ".join(f"{w:g}:{f:.1%}" for w, f in zip(WEIGHTS, curve, strict=True))
    )
    return float(WEIGHTS[int(np.argmin(curve))])


def row(name: str, size: int, s_acc: float, t: float, frr: float, cross: tuple) -> None:
    print(
        f"{name:<18}{size:>5}{s_acc:>8.2%}{t:>8.3f}{frr:>8.2%}"
        f"{'|':>4}{cross[0]:>7.2%}{cross[1]:>7.2%}{cross[2]:>6.2%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set")
    parser.add_argument("--sizes", default="10,50,100,all")
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rule", action="append", default=[], choices=sorted(RULES))
    parser.add_argument(
        "--same-person", action="append", default=[], metavar="A,B",
        help="Count folder B as folder A (one person filed under two identities).",
    )  # fmt: skip
    args = parser.parse_args()
    faces = load(args.set, ["dlib", "facenet"])
    for pair in args.same_person:
        a, b = pair.split(",")
        if not {a, b} <= set(faces.labels):
            parser.error(f"--same-person {pair}: no such folder in {args.set}")
        faces.labels[faces.labels == b] = a
    people = sorted(set(faces.labels) - {""})
    rng = np.random.default_rng(args.seed)
    halves = [list(h) for h in np.array_split(rng.permutation(people), 2)]
    sizes = [len(people) if s == "all" else int(s) for s in args.sizes.split(",")]
    print(f"{args.set}: {len(people)} people, {len(faces.labels)} faces with a face found")
    head = f"{'rule':<18}{'G':>5}{'closed':>8}{'t@1%':>8}{'FRR@1%':>8}"
    print(head + f"{'| cross t':>10}{'FAR':>7}{'FRR':>7}{'mis':>6}   (study protocol)")
    for name in args.rule:
        report(name, RULES[name](), faces, people, halves, sizes, args.draws, args.seed)
    report("zfusion-w0.5", zfusion_rule(0.5), faces, people, halves, sizes, args.draws, args.seed)
    print(
        f"\ndlib's shipped rule (its own threshold for G students):{'FAR':>11}{'FRR':>7}{'mis':>6}"
    )
    for size in sizes:
        s = score(shipped_dlib_rule, trials(faces, people, size, args.draws, args.seed), faces)
        t = s.threshold_at_far()
        row("dlib-shipped", size, s.accuracy, t, s.at(t)[1], s.at(0.0))
    for i, tune in enumerate(halves):
        other = halves[1 - i]
        print(f"\nweight chosen on half {'AB'[i]} ({len(tune)} people, all enrolled):")
        w = choose_weight(faces, tune, args.seed)
        rule = zfusion_rule(w)
        _, t_cal = frr_at_far(faces, tune, rule, args.seed)
        print(f"  w = {w:g}, threshold for 1% strangers on half {'AB'[i]}: {t_cal:.3f}")
        print(head + f"{'|':>4}{'FAR':>7}{'FRR':>7}{'mis':>6}   (at half {'AB'[i]}'s threshold)")
        for size in [s for s in sizes if s < len(other)] + [len(other)]:
            s = score(rule, trials(faces, other, size, args.draws, args.seed), faces)
            t = s.threshold_at_far()
            row(f"other half, w={w:g}", size, s.accuracy, t, s.at(t)[1], s.at(t_cal))
        s = score(rule, trials(faces, people, len(people), 1, args.seed), faces)
        t = s.threshold_at_far()
        nan = (np.nan,) * 3
        row(f"all (half in), w={w:g}", len(people), s.accuracy, t, s.at(t)[1], nan)


if __name__ == "__main__":
    main()
