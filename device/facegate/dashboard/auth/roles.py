"""Three roles, each with everything the one before may do (checked on the server only)."""

from __future__ import annotations

ROLES = ("proctor", "exam_office", "admin")
WATCH = "proctor"  # every page, acknowledge alarms
COMMAND = "exam_office"  # plus commands, attendance, audit
ADMIN = "admin"  # plus users, doors, keys, diagnostics


def allows(role: str, needed: str) -> bool:
    """Whether ``role`` has the rights of ``needed``; an unknown role has none."""
    if role not in ROLES or needed not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)
