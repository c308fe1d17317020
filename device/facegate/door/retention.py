"""Personal data is kept only as long as ``[retention]`` says: pruned at start and hourly.

The journal's rotated files, attendance rows and keypad attempt records (docs/security.md,
"What is kept, and for how long").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from facegate.access.attendance import AttendanceLog
from facegate.config.retention import RetentionConfig
from facegate.events.journal import JournalSink
from facegate.identity.second_factor import SecondFactorStore

log = logging.getLogger("facegate.door")


class Retention:
    def __init__(
        self,
        config: RetentionConfig,
        journal: JournalSink,
        attendance: AttendanceLog | None,
        second_factor: SecondFactorStore,
        wall_clock: Callable[[], datetime],
    ) -> None:
        self.c = config
        self._journal = journal
        self._attendance = attendance
        self._second_factor = second_factor
        self._wall = wall_clock

    def prune(self) -> None:
        now = self._wall()
        try:
            journals = len(self._journal.prune(now.timestamp()))
            rows = 0
            if self._attendance is not None:
                rows = self._attendance.prune(now - timedelta(days=self.c.attendance_days))
            attempts = self._second_factor.prune_attempts(
                (now - timedelta(days=self.c.attempts_days)).timestamp()
            )
        except Exception:
            # Pruning is housekeeping: it must never stop the door; the next hour tries again.
            log.exception("retention pruning failed")
            return
        if journals or rows or attempts:
            log.info(
                "retention: %d journal file(s), %d attendance row(s), %d attempt record(s) removed",
                journals,
                rows,
                attempts,
            )
