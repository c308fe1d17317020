"""Delete what is past its keeping time: events, health samples, diagnostics, sessions."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from facegate.dashboard.store.tables import bad_messages, events, health_samples, sessions


async def apply_retention(
    engine: AsyncEngine, now: float, event_days: int, diagnostics_days: int
) -> dict[str, int]:
    removed = {}
    async with engine.begin() as conn:
        if event_days > 0:
            cutoff = datetime.fromtimestamp(now - event_days * 86400, UTC)
            # event_id starts with 12 hex digits of Unix ms: an index range, no payload parsed
            prefix = f"{int(cutoff.timestamp() * 1000):012x}"
            r = await conn.execute(delete(events).where(events.c.event_id < prefix))
            removed["events"] = r.rowcount
        since = now - diagnostics_days * 86400
        r = await conn.execute(delete(health_samples).where(health_samples.c.at < since))
        removed["health_samples"] = r.rowcount
        r = await conn.execute(delete(bad_messages).where(bad_messages.c.at < since))
        removed["bad_messages"] = r.rowcount
        r = await conn.execute(delete(sessions).where(sessions.c.expires_at < now))
        removed["sessions"] = r.rowcount
    return removed
