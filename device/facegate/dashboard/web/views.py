"""Rows and messages turned into what a template shows (pure; the clock is passed in)."""

from __future__ import annotations

import json
from datetime import datetime

from facegate.dashboard.alarms.rules import NEEDS_LOCKED, TITLES, close_refusal, snoozed


def ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    if s < 86400:
        return f"{s // 3600} h ago"
    return f"{s // 86400} d ago"


def short_time(ts: str | None) -> str:
    """'2026-11-23T09:02:11.348+00:00' -> '09:02:11' (UTC, as the doors send it)."""
    if not ts:
        return ""
    try:
        return datetime.fromisoformat(ts).strftime("%H:%M:%S")
    except ValueError:
        return ts[:19]


def _json(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def door_view(row, now: float, stale_after_s: float, sessions_by_room: dict[str, str]) -> dict:
    health = _json(row.health)
    last = _json(row.last_decision)
    online = row.status == "online"
    health_age = now - row.health_at if row.health_at else None
    stale = online and health_age is not None and health_age > stale_after_s
    return {
        "id": row.device_id,
        "room": row.room or "",
        "online": online,
        "status": row.status or "unknown",
        "stale": stale,
        "state": row.state or "unknown",
        "lockdown": bool(health.get("lockdown")),
        "session": sessions_by_room.get(row.room or "", last.get("session_id") or ""),
        "last_decision": last.get("decision") or "",
        "last_reasons": ", ".join(last.get("reasons") or []),
        "last_student": last.get("student_id") or "",
        "last_time": short_time(last.get("ts")),
        "outbox": health.get("outbox_depth"),
        "fps": health.get("fps"),
        "cpu_temp": health.get("cpu_temp_c"),
        "health_ago": ago(health_age),
        "snoozed": snoozed(row.snoozed_until, now),
    }


def event_view(e: dict) -> dict:
    live = e.get("liveness") or {}
    scores = e.get("scores") or {}
    latency = (e.get("latencies_ms") or {}).get("total")
    if e.get("type") == "alarm":
        return {
            "id": e["event_id"],
            "time": short_time(e["ts"]),
            "ts": e["ts"],
            "door": e["device_id"],
            "decision": "alarm",
            "reasons": TITLES.get(e["kind"], e["kind"]),
            "student": (e.get("detail") or {}).get("student_id") or "",
            "session": "",
            "blinks": "",
            "distance": "",
            "second_factor": "",
            "latency": "",
        }
    distance = scores.get("distance")
    threshold = scores.get("threshold")
    return {
        "id": e["event_id"],
        "time": short_time(e["ts"]),
        "ts": e["ts"],
        "door": e["device_id"],
        "decision": e.get("decision", ""),
        "reasons": ", ".join(e.get("reasons") or []),
        "student": e.get("student_id") or "",
        "session": e.get("session_id") or "",
        "blinks": len(live.get("blinks") or []) if live else "",
        "distance": f"{distance:.3f} / {threshold:.3f}"
        if distance is not None and threshold
        else "",
        "second_factor": e.get("second_factor") or "",
        "latency": f"{latency} ms" if latency is not None else "",
    }


def alarm_view(row, acks: list, door_row, now: float) -> dict:
    online = door_row is not None and door_row.status == "online"
    state = door_row.state if door_row is not None else None
    refusal = close_refusal(row.kind, state, online)
    return {
        "id": row.id,
        "kind": row.kind,
        "title": TITLES.get(row.kind, row.kind),
        "door": row.device_id,
        "time": short_time(row.ts),
        "last_time": short_time(row.last_ts),
        "count": row.count,
        "detail": row.detail,
        "state": row.state,
        "needs_locked": row.kind in NEEDS_LOCKED,
        "close_refusal": refusal,
        "acks": [{"user": a.user_name, "note": a.note, "ago": ago(now - a.at)} for a in acks],
        "snoozed": door_row is not None and snoozed(door_row.snoozed_until, now),
        "event_id": row.event_id,
    }


def command_view(row) -> dict:
    args = _json(row.args)
    return {
        "nonce": row.nonce,
        "door": row.device_id,
        "cmd": row.cmd,
        "args": ", ".join(f"{k}={v}" for k, v in args.items()),
        "operator": row.operator,
        "created": datetime.fromtimestamp(row.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        "state": row.state,
        "reason": row.reason or "",
        "detail": row.detail or "",
        "has_code": row.cmd == "override" and row.state == "accepted" and bool(row.sealed_code),
        "code_shown": bool(row.code_shown),
    }


def depth_plot(series: dict[str, list[tuple[float, int]]], since: float, now: float) -> dict:
    """Polylines for an SVG (no JavaScript): x over the time window, y over the max depth."""
    width, height = 600.0, 160.0
    top = max([d for points in series.values() for _, d in points] + [1])
    span = max(now - since, 1.0)
    lines = []
    for device, points in sorted(series.items()):
        coords = " ".join(
            f"{(t - since) / span * width:.1f},{height - d / top * height:.1f}" for t, d in points
        )
        lines.append({"door": device, "points": coords, "last": points[-1][1] if points else 0})
    return {"width": int(width), "height": int(height), "max": top, "lines": lines}
