#!/usr/bin/env python3
"""Compare a benchmark between two installs of facegate, side by side, in one run.

The machine is shared and noisy, so absolute times drift from one minute to the next; the two
installs therefore take turns (A, B, A, B, ...) and each numeric figure is reported as the
median per install and the median of the per-round ratios B/A.

    scripts/bench_revisions.py --a /work/old/.venv/bin/facegate --b .venv/bin/facegate \\
        --rounds 5 -- bench liveness ../shared/data/blink/liveportrait/*.mp4

The arguments after ``--`` are passed to both; ``--json`` is added.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Iterator
from typing import Any


def leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """Every numeric leaf of a JSON document, named by its path."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield prefix, float(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{prefix}[{index}]")


def run(executable: str, arguments: list[str]) -> dict[str, float]:
    done = subprocess.run(
        [executable, *arguments, "--json"], check=True, capture_output=True, text=True
    )
    return dict(leaves(json.loads(done.stdout)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="the baseline's facegate executable")
    parser.add_argument("--b", required=True, help="the candidate's facegate executable")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("arguments", nargs="+")
    options = parser.parse_args()
    a_runs: list[dict[str, float]] = []
    b_runs: list[dict[str, float]] = []
    for round_number in range(options.rounds):
        print(f"round {round_number + 1}/{options.rounds}", file=sys.stderr)
        a_runs.append(run(options.a, options.arguments))
        b_runs.append(run(options.b, options.arguments))
    shared = sorted(set(a_runs[0]) & set(b_runs[0]))
    print("| figure | A median | B median | B/A (median of rounds) |\n| --- | --- | --- | --- |")
    for key in shared:
        a_values = [r[key] for r in a_runs if key in r]
        b_values = [r[key] for r in b_runs if key in r]
        ratios = [b / a for a, b in zip(a_values, b_values, strict=False) if a]
        ratio = f"{statistics.median(ratios):.3f}" if ratios else "-"
        print(
            f"| {key} | {statistics.median(a_values):.3f} | "
            f"{statistics.median(b_values):.3f} | {ratio} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
