"""Alarm rules as plain functions: which events are alarms, when floods collapse, when an
alarm may be closed, and whether a door's alarms are snoozed. Times are passed in."""

from __future__ import annotations

# Alarm kinds that are news, not trouble: kept in history, never in the inbox.
NOT_INBOX = frozenset({"remote_command", "camera_restored"})
# A forced or held-open door is over only when the door says LOCKED again.
NEEDS_LOCKED = frozenset({"door_forced", "door_held_open"})
# What each kind means to a proctor, for the inbox and the toast.
TITLES = {
    "door_forced": "Door forced open",
    "door_held_open": "Door held open",
    "camera_error": "Camera lost",
    "locked_out": "Student locked out",
    "spoof_attempt": "Spoof attempt",
    "roster_invalid": "Roster did not load",
    "watchdog_stall": "Door service stalled",
    "command_rejected": "Bad command refused",
    "outbox_full": "Outbox filling",
    "event_store_failed": "Event could not be stored",
}


def raises_alarm(kind: str) -> bool:
    return kind not in NOT_INBOX


def collapses(last_at: float | None, now: float, window_s: float) -> bool:
    """Another alarm of the same kind from the same door joins the open one within the window."""
    return last_at is not None and window_s > 0 and now - last_at <= window_s


def close_refusal(kind: str, door_state: str | None, door_online: bool) -> str | None:
    """Why this alarm cannot be closed now, or None when it can."""
    if kind in NEEDS_LOCKED:
        if not door_online:
            return "the door is offline: its state is not known"
        if door_state != "LOCKED":
            return f"the door is {door_state or 'in an unknown state'}: close once it is LOCKED"
    return None


def snoozed(snoozed_until: float | None, now: float) -> bool:
    return snoozed_until is not None and now < snoozed_until
