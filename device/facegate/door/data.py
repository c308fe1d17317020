"""The roster and the gallery the door decides with, and how they are reloaded.

A roster is small and validated whole: it is reloaded at once, and a bad one keeps the roster
in use (``roster_invalid``). A gallery of thousands of students takes seconds to load, so it is
loaded on a thread of its own while the door keeps deciding with the gallery it has; the new one
replaces it in one step when ready (systemd sees ``RELOADING=1``, then ``READY=1``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from facegate.access.roster import Roster
from facegate.errors import FacegateError
from facegate.identity.recognizer import Recognizer

log = logging.getLogger("facegate.door")


@dataclass(frozen=True)
class ReloadProblem:
    """What a reload could not do; the door raises it as an alarm."""

    kind: str  # roster_invalid or gallery_invalid
    error: str


class DoorData:
    def __init__(
        self,
        roster: Roster,
        load_roster: Callable[[], Roster],
        load_recognizer: Callable[[], Recognizer],
        on_reloading: Callable[[], None] = lambda: None,
        on_ready: Callable[[], None] = lambda: None,
    ) -> None:
        self._load_roster = load_roster
        self._load_recognizer = load_recognizer
        self._on_reloading = on_reloading
        self._on_ready = on_ready
        self.roster = roster
        self.recognizer = load_recognizer()
        self._loading: threading.Thread | None = None
        self._loaded: Recognizer | FacegateError | None = None
        self._problems: list[ReloadProblem] = []

    @property
    def gallery_loading(self) -> bool:
        return self._loading is not None

    def reload(self, what: str = "all") -> str:
        """Reload ``roster``, ``gallery`` or ``all``; says what happened (for the answer)."""
        done = []
        if what in ("roster", "all"):
            try:
                self.roster = self._load_roster()
                log.info("roster reloaded: %d sessions", len(self.roster.session))
                done.append("roster reloaded")
            except FacegateError as exc:
                log.error("roster not reloaded, the previous one stays: %s", exc)
                self._problems.append(ReloadProblem("roster_invalid", str(exc)))
                done.append("roster refused (the previous one stays)")
        if what in ("gallery", "all"):
            if self._loading is None:
                self._on_reloading()
                self._loading = threading.Thread(
                    target=self._load_gallery, name="gallery-reload", daemon=True
                )
                self._loading.start()
            done.append("gallery loading")
        return ", ".join(done)

    def _load_gallery(self) -> None:
        try:
            self._loaded = self._load_recognizer()
        except FacegateError as exc:
            self._loaded = exc
        except Exception as exc:  # a bug must not leave the reload hanging
            log.exception("gallery reload failed")
            self._loaded = FacegateError(f"gallery reload failed: {exc}")

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a gallery load under way (lockstep runs, shutdown)."""
        if self._loading is not None:
            self._loading.join(timeout)

    def poll(self) -> list[ReloadProblem]:
        """On the main loop: take a finished gallery load; return what went wrong since."""
        loading = self._loading
        if loading is not None and not loading.is_alive():
            loaded, self._loaded, self._loading = self._loaded, None, None
            if isinstance(loaded, Recognizer):
                self.recognizer = loaded
                log.info("gallery reloaded: %d students", len(loaded.matcher.classes))
            elif loaded is not None:
                log.error("gallery not reloaded, the previous one stays: %s", loaded)
                self._problems.append(ReloadProblem("gallery_invalid", str(loaded)))
            self._on_ready()
        problems, self._problems = self._problems, []
        return problems
