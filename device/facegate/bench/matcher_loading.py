"""The two ways a gallery reload could run beside the door loop, for ``facegate bench reload``.

The door builds the new matcher on a worker thread (``door/data.py``). Decrypting thousands of
templates and summing them into centroids holds the interpreter lock for much of that time,
which the door's frame path needs between its OpenCV and dlib calls; a child process has a lock
of its own but costs a fresh interpreter and its imports per reload (``spawn``: no copy of the
door's threads, camera or MQTT client). This module imports only the gallery side, so the child
starts as light as it can; the benchmark measures both beside the frame path.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from facegate.config import Settings
from facegate.errors import FacegateError
from facegate.identity.gallery import open_configured_gallery
from facegate.identity.matcher import Matcher
from facegate.identity.recognizer import effective_rule, load_matcher


def build_matcher(
    settings: Settings, embedder: str | None = None, dim: int | None = None
) -> tuple[Matcher, str]:
    """The configured gallery's matcher and where its open-set rule came from."""
    with open_configured_gallery(settings.paths, embedder, dim) as gallery:
        return load_matcher(gallery, settings), effective_rule(settings, gallery)[1]


def build_matcher_in_child(
    settings: Settings, embedder: str | None = None, dim: int | None = None
) -> tuple[Matcher, str]:
    """:func:`build_matcher` in a fresh child process; its errors are raised here."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        try:
            return pool.submit(build_matcher, settings, embedder, dim).result()
        except BrokenProcessPool as exc:
            raise FacegateError(f"the gallery loader process died: {exc}") from exc
