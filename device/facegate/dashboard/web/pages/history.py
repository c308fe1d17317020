"""History: filters by door, decision, reason, student, session and date; pages by event id;
the CSV of what the filters select."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facegate.dashboard.attendance.sheet import to_csv
from facegate.dashboard.auth.roles import WATCH
from facegate.dashboard.store import queries
from facegate.dashboard.store.queries import PAGE, HistoryFilter
from facegate.dashboard.web.pages.common import page, rt_of
from facegate.dashboard.web.security import require
from facegate.dashboard.web.views import event_view

CSV_LIMIT = 100_000
CSV_HEADER = [
    "event_id",
    "ts",
    "door",
    "type",
    "decision",
    "reasons",
    "student_id",
    "session_id",
    "blinks",
    "distance_threshold",
    "second_factor",
    "latency",
]
FIELDS = ("device_id", "decision", "reason", "student_id", "session_id", "from", "to")


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name} must be a date, YYYY-MM-DD") from None


def parse_filter(request: Request) -> HistoryFilter:
    q = {k: request.query_params.get(k, "").strip()[:64] for k in (*FIELDS, "before")}
    if q["decision"] not in ("", "granted", "denied", "alarm"):
        raise HTTPException(400, "decision must be granted, denied or alarm")
    if q["before"] and (len(q["before"]) != 28 or not q["before"].isalnum()):
        raise HTTPException(400, "before must be an event id")
    return HistoryFilter(
        device_id=q["device_id"],
        decision=q["decision"],
        reason=q["reason"],
        student_id=q["student_id"],
        session_id=q["session_id"],
        day_from=_day(q["from"], "from"),
        day_to=_day(q["to"], "to"),
        before=q["before"],
    )


def _query(request: Request, **changes: str) -> str:
    values = {k: request.query_params.get(k, "") for k in FIELDS}
    values.update(changes)
    return urlencode({k: v for k, v in values.items() if v})


async def history(request: Request) -> Response:
    user = await require(request, WATCH)
    rt = rt_of(request)
    f = parse_filter(request)
    rows = await queries.history(rt.engine, f, PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    views = [event_view(json.loads(r.payload)) for r in rows]
    next_q = _query(request, before=rows[-1].event_id) if more and rows else ""
    return page(
        request,
        "history.html",
        user,
        events=views,
        f={k: request.query_params.get(k, "") for k in FIELDS},
        doors=[d.device_id for d in await queries.all_doors(rt.engine)],
        next_q=next_q,
        csv_q=_query(request),
        first_page=not f.before,
    )


async def history_csv(request: Request) -> Response:
    await require(request, WATCH)
    f = parse_filter(request)
    rows = await queries.history(rt_of(request).engine, f, CSV_LIMIT)
    lines = []
    for r in rows:
        v = event_view(json.loads(r.payload))
        lines.append(
            [
                r.event_id,
                r.ts,
                r.device_id,
                r.type,
                v["decision"],
                v["reasons"],
                v["student"],
                v["session"],
                v["blinks"],
                v["distance"],
                v["second_factor"],
                v["latency"],
            ]
        )
    return Response(
        to_csv(CSV_HEADER, lines),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="facegate-history.csv"'},
    )


routes = [Route("/history", history), Route("/history.csv", history_csv)]
