"""Open-set figures against the number of enrolled people.

A stranger is accepted when the nearest of all enrolled students is close enough, so the
false-accept rate grows with the gallery; a figure from 10 people says little about 278.
For each size G smaller than the set, several galleries of G people are drawn (seeded), each
enrolled person's 80% templates enrolled and their 20% shown as genuine probes (the rotation
moves with the draw), and every photo of everyone else is a stranger. The whole set's own
figure (leave-identities-out strangers) is the report's main one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

from facegate.evaluation.identities import Protocol
from facegate.identity.matcher import ACCEPTED, OpenSetRule

SIZES = (10, 50, 100)
DRAWS = 5


def figures_by_size(
    proto: Protocol,
    rule: OpenSetRule,
    sizes: Sequence[int] = SIZES,
    draws: int = DRAWS,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, dict]:
    """{size: {closed_set_accuracy, far, frr, misidentification_rate, ...}} for each size
    smaller than the number of people (larger sizes are left out)."""
    rng = np.random.default_rng(seed)
    usable = [s for s in sizes if 2 <= s < len(proto.everyone)]
    out: dict[str, dict] = {}
    bar = tqdm(total=len(usable) * draws, desc="gallery sizes", leave=False, disable=not progress)
    for size in usable:
        correct = rejected = wrong = n_genuine = 0
        unknown: list[bool] = []
        for r in range(draws):
            enrolled = sorted(rng.choice(proto.everyone, size, replace=False).tolist())
            matcher = proto.gallery(enrolled, r, rule)
            for person in enrolled:
                for _, probe in proto.split(person, r)[1]:
                    m = matcher.identify(probe)
                    n_genuine += 1
                    correct += m.candidate_id == person
                    if m.reason != ACCEPTED:
                        rejected += 1
                    elif m.candidate_id != person:
                        wrong += 1
            inside = set(enrolled)
            strangers = [e for p in proto.everyone if p not in inside for _, e in proto.found[p]]
            strangers += [e for _, e in proto.unknown]
            unknown += [matcher.identify(e).reason == ACCEPTED for e in strangers]
            bar.update()
        u = np.asarray(unknown)
        out[str(size)] = {
            "galleries": draws,
            "closed_set_accuracy": correct / n_genuine,
            "threshold": rule.threshold_for(size),
            "far": float(np.mean(u)) if u.size else 0.0,
            "frr": rejected / n_genuine,
            "misidentification_rate": wrong / n_genuine,
            "n_genuine_probes": n_genuine,
            "n_unknown_probes": int(u.size),
        }
    bar.close()
    return out
