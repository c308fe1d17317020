"""Gallery at scale: load, reload, memory and 1:N search time for N students.

The templates are synthetic (random unit vectors of the embedder's size) but everything else is
real: a sealed SQLite gallery on disk, opened with its key, every template decrypted and
checked, the matcher built from them. ``reload_s`` is a rebuild in a worker thread while the
current matcher keeps answering searches on this thread (as the door does during a reload);
``search_ms_p95_during_reload`` shows whether those searches were held up.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from facegate.config import Settings
from facegate.identity.gallery import Gallery
from facegate.identity.matcher import Matcher
from facegate.identity.recognizer import load_matcher

TEMPLATES_PER_STUDENT = 5
DIM = 512


def rss_mb() -> float:
    """This process's resident memory (Linux ``/proc``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def build_synthetic_gallery(path: Path, key: Path, students: int, seed: int = 0) -> None:
    """``students`` x 5 random 512-D templates in a new sealed gallery."""
    rng = np.random.default_rng(seed)
    with Gallery.open(path, key, "facenet", DIM, create=True) as g:
        batch = []
        for i in range(students):
            centre = rng.normal(size=DIM)
            vectors = centre + rng.normal(scale=0.5, size=(TEMPLATES_PER_STUDENT, DIM))
            batch.append((f"s{i:05d}", f"Student {i}", list(vectors)))
            if len(batch) == 500 or i == students - 1:
                g.add_students(batch)
                batch = []


def load_gallery_matcher(path: Path, key: Path, settings: Settings) -> Matcher:
    """Open the sealed gallery, decrypt and check every template, build the matcher."""
    with Gallery.open(path, key, "facenet", DIM) as g:
        return load_matcher(g, settings)


def _search_ms(matcher: Matcher, probes: np.ndarray, roster: list[str] | None) -> list[float]:
    out = []
    for p in probes:
        start = time.perf_counter()
        matcher.identify(p, roster)
        out.append((time.perf_counter() - start) * 1000.0)
    return out


def measure_gallery(settings: Settings, students: int, searches: int = 500) -> dict:
    """Time the load of a gallery of ``students``, a reload beside searches, and a search."""
    with tempfile.TemporaryDirectory(prefix="facegate-bench-") as tmp:
        path, key = Path(tmp) / "gallery.sqlite", Path(tmp) / "gallery.key"
        start = time.perf_counter()
        build_synthetic_gallery(path, key, students)
        build_s = time.perf_counter() - start
        rss_before = rss_mb()
        start = time.perf_counter()
        matcher = load_gallery_matcher(path, key, settings)
        load_s = time.perf_counter() - start
        rss_after = rss_mb()

        rng = np.random.default_rng(1)
        probes = rng.normal(size=(searches, DIM)).astype(np.float32)
        roster = list(matcher.classes[: min(300, students)])
        whole = _search_ms(matcher, probes, None)
        limited = _search_ms(matcher, probes, roster)

        rebuilt: dict[str, object] = {}

        def rebuild() -> None:
            begin = time.perf_counter()
            rebuilt["matcher"] = load_gallery_matcher(path, key, settings)
            rebuilt["s"] = time.perf_counter() - begin

        worker = threading.Thread(target=rebuild, name="gallery-reload")
        during: list[float] = []
        worker.start()
        i = 0
        while worker.is_alive():
            during += _search_ms(matcher, probes[i % searches : i % searches + 1], roster)
            i += 1
            time.sleep(0.002)  # a door asks about once per attempt, not in a busy loop
        worker.join()
    assert isinstance(rebuilt.get("matcher"), Matcher)
    return {
        "students": students,
        "templates": students * TEMPLATES_PER_STUDENT,
        "dim": DIM,
        "build_s": round(build_s, 3),
        "load_s": round(load_s, 3),
        "reload_s": round(float(rebuilt["s"]), 3),  # type: ignore[arg-type]
        "rss_mb": round(rss_after, 1),
        "rss_gallery_mb": round(rss_after - rss_before, 1),
        "search_ms_p50": round(statistics.median(whole), 3),
        "search_ms_p95": round(float(np.percentile(whole, 95)), 3),
        "roster_search_ms_p50": round(statistics.median(limited), 3),
        "searches_during_reload": len(during),
        "search_ms_p95_during_reload": round(float(np.percentile(during, 95)), 3)
        if during
        else None,
    }


def format_gallery(results: list[dict]) -> str:
    lines = [
        f"{'students':>9}{'load s':>9}{'reload s':>10}{'RSS MB':>9}{'search p50 ms':>15}"
        f"{'roster p50':>12}{'p95 in reload':>15}"
    ]
    for r in results:
        during = r["search_ms_p95_during_reload"]
        lines.append(
            f"{r['students']:>9}{r['load_s']:>9.3f}{r['reload_s']:>10.3f}{r['rss_mb']:>9.1f}"
            f"{r['search_ms_p50']:>15.3f}{r['roster_search_ms_p50']:>12.3f}"
            f"{'-' if during is None else format(during, '.3f'):>15}"
        )
    lines.append("(synthetic 512-D templates, 5 a student, in a real sealed gallery)")
    return "\n".join(lines)
