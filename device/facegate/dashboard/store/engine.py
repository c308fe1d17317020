"""Open the database: SQLite in WAL mode by default, PostgreSQL for a school-wide install.

SQLite runs with ``synchronous=FULL``: a batch is acknowledged to the broker only after its
commit, so the commit must survive a power cut, not only a crash of this process.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from facegate.dashboard.store.tables import metadata
from facegate.errors import ConfigError


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "foreign_keys=ON",
        "busy_timeout=10000",
        # 64 MiB of page cache (default 2 MiB): the indexes of millions of events stay hot
        "cache_size=-65536",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


async def open_engine(url: str, password: str | None = None) -> AsyncEngine:
    """An engine with every table created (idempotent), ready for the app and the CLI."""
    parsed = make_url(url)
    if password is not None:
        parsed = parsed.set(password=password)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, pool_size=4, max_overflow=4)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        engine = create_async_engine(parsed, pool_size=8, max_overflow=4, pool_pre_ping=True)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    except Exception as exc:  # an unreachable server, a wrong password, a read-only file
        await engine.dispose()
        raise ConfigError(f"database.url: cannot open {parsed!r}: {exc}") from None
    return engine


def dialect_insert(engine_or_conn):
    """``insert`` with ``on_conflict_do_nothing`` / ``_do_update`` for this dialect."""
    name = engine_or_conn.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # pragma: no cover - the settings allow only these two
        raise ConfigError(f"database dialect {name} is not supported")
    return insert
