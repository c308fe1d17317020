#!/usr/bin/env python3
"""Time ``facegate provision build`` for a fleet of N doors, old and new installs side by side.

The inputs are made once in DIR (cached): a synthetic Bookworm image of SIZE MiB laid out like
Raspberry Pi OS (tests/provision/pi_image.py), an N-door fleet file, a roster and a gallery
export. Each install then builds every card, in turns (A, B, A, B, ...) because the machine is
shared and noisy, and the per-phase seconds are printed per run and as medians.

    .venv/bin/python scripts/provision_bench.py --dir /tmp/prov-bench --doors 20 \\
        --wheelhouse /tmp/prov-wheels/cp311 --rounds 3 \\
        --install before=/work/main/.venv/bin/facegate --install after=.venv/bin/facegate

Run from the repository root with the test venv (it uses the tests' image and fleet helpers).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.provision.conftest import KEY, PASSPHRASE, ROSTER, _gallery_bundle
from tests.provision.pi_image import make_pi_image

SUMMARY = re.compile(r"^\d+ image\(s\) in ([\d.]+) s: checks and unpacking ([\d.]+) s, .*\((.*)\)$")


def fleet_text(doors: int) -> str:
    head = (
        '[fleet]\nname = "bench"\ngallery_key = "per-door"\n'
        f'ssh_keys = ["{KEY}"]\ntime_servers = ["ntp.school.example"]\n'
        '[fleet.broker]\nhost = "broker.school.example"\nport = 1883\n'
    )
    body = "".join(
        f'[[doors]]\nid = "door-{n:02d}"\nroom = "Room {n}"\nhostname = "door-{n:02d}"\n'
        for n in range(1, doors + 1)
    )
    return head + body


def make_inputs(folder: Path, doors: int, size_mb: int) -> tuple[Path, Path]:
    """The base image and the fleet folder, made once and reused."""
    folder.mkdir(parents=True, exist_ok=True)
    image = folder / f"bookworm-{size_mb}m.img"
    if not image.exists():
        make_pi_image(image, "bookworm", size_mb=size_mb)
    fleet = folder / f"fleet-{doors}"
    if not (fleet / "fleet.toml").exists():
        fleet.mkdir(exist_ok=True)
        (fleet / "roster.toml").write_text(ROSTER)
        (fleet / "passphrase").write_text(PASSPHRASE + "\n")
        _gallery_bundle(fleet / "gallery.export")
        (fleet / "fleet.toml").write_text(fleet_text(doors))
    return image, fleet


def run(facegate: str, image: Path, fleet: Path, out: Path, wheelhouse: Path) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    command = [
        facegate, "provision", "build", str(fleet / "fleet.toml"), "--image", str(image),
        "--out", str(out), "--wheelhouse", str(wheelhouse), "--gallery",
        str(fleet / "gallery.export"), "--gallery-passphrase-file", str(fleet / "passphrase"),
        "--roster", str(fleet / "roster.toml"),
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{facegate}: {done.stderr.strip()}")
    line = done.stdout.strip().splitlines()[-1]
    match = SUMMARY.match(line)
    if match is None:
        raise SystemExit(f"{facegate}: no summary line in {line!r}")
    figures = {"total": float(match[1]), "checks": float(match[2]), "wall": wall}
    for part in match[3].split(", "):
        name, seconds, _ = part.split(" ")
        figures[name] = float(seconds)
    shutil.rmtree(out, ignore_errors=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="inputs and outputs go here")
    parser.add_argument("--doors", type=int, default=20)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--wheelhouse", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--install", action="append", required=True, metavar="NAME=FACEGATE")
    options = parser.parse_args()
    image, fleet = make_inputs(options.dir, options.doors, options.size_mb)
    installs = dict(item.split("=", 1) for item in options.install)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in installs}
    for round_number in range(options.rounds):
        for name, facegate in installs.items():
            figures = run(facegate, image, fleet, options.dir / "out", options.wheelhouse)
            runs[name].append(figures)
            shown = ", ".join(f"{k} {v:.1f}" for k, v in figures.items())
            print(f"round {round_number + 1} {name}: {shown}", flush=True)
    for name, items in runs.items():
        keys = list(items[0])
        medians = ", ".join(f"{k} {statistics.median(r[k] for r in items):.1f} s" for k in keys)
        print(f"median {name} ({len(items)} runs, {options.doors} doors): {medians}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
