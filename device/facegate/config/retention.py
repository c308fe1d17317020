"""``[retention]``: how long the door keeps personal data, and how large its journal grows.

Students' attendance rows, keypad attempt records and the local event journal are personal
data: they are kept only as long as configured here and pruned at start and once an hour
(docs/security.md, "What is kept, and for how long"). Events are also in the outbox until the
broker has them, and then on the broker; the journal is the local record of last resort.
"""

from __future__ import annotations

from pydantic import Field

from facegate.config.base import Section


class RetentionConfig(Section):
    # The journal is rotated when it passes this size; rotated files older than
    # journal_days are deleted (the newest rotated file is kept for crash recovery).
    journal_max_mb: float = Field(default=16.0, ge=0.1, le=4096.0)
    journal_days: int = Field(default=90, ge=1, le=3650)
    # Attendance rows older than this are deleted (export them first: facegate attendance).
    attendance_days: int = Field(default=180, ge=1, le=3650)
    # Keypad attempt and lockout records (not the TOTP secrets) older than this are deleted.
    attempts_days: int = Field(default=30, ge=1, le=3650)
