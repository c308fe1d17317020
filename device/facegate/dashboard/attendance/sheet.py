"""Who was expected, who entered (first entry, time, door), who was refused, who is missing.

Pure: takes the roster's student ids and the session's access events (oldest first).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    student_id: str
    status: str  # entered | refused | missing
    first_entry: str | None = None  # ts of the first grant
    door: str | None = None
    refusals: int = 0
    last_reason: str | None = None


def attendance(expected: list[str], events: list[dict]) -> list[Line]:
    """``events``: dicts with student_id, decision, ts, device_id, reasons (oldest first)."""
    granted: dict[str, dict] = {}
    refused: dict[str, list[dict]] = {}
    for e in events:
        sid = e.get("student_id")
        if not sid:
            continue
        if e["decision"] == "granted":
            granted.setdefault(sid, e)
        else:
            refused.setdefault(sid, []).append(e)
    lines = []
    for sid in sorted(set(expected)):
        tries = refused.get(sid, [])
        last = (tries[-1].get("reasons") or "") if tries else None
        if sid in granted:
            g = granted[sid]
            lines.append(Line(sid, "entered", g["ts"], g["device_id"], len(tries), last))
        elif tries:
            lines.append(Line(sid, "refused", None, tries[-1]["device_id"], len(tries), last))
        else:
            lines.append(Line(sid, "missing"))
    return lines


def counts(lines: list[Line]) -> dict[str, int]:
    out = {"expected": len(lines), "entered": 0, "refused": 0, "missing": 0}
    for line in lines:
        out[line.status] += 1
    return out


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (=, +, -, @ lead a formula)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(header: list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()


ATTENDANCE_HEADER = ["student_id", "status", "first_entry", "door", "refusals", "last_reason"]


def attendance_csv(lines: list[Line]) -> str:
    return to_csv(
        ATTENDANCE_HEADER,
        [[x.student_id, x.status, x.first_entry, x.door, x.refusals, x.last_reason] for x in lines],
    )
