"""The dashboard's tables (SQLAlchemy Core; the same DDL on SQLite and PostgreSQL).

Events are keyed by the door's ``event_id`` so a redelivered event (at least once) is
dropped by ``INSERT ... ON CONFLICT DO NOTHING`` inside the same commit that acknowledges it.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("event_id", String(28), primary_key=True),
    Column("device_id", String(64), nullable=False),
    Column("type", String(8), nullable=False),  # access | alarm
    Column("ts", String(32), nullable=False),  # the door's ISO 8601 UTC
    Column("decision", String(8)),
    Column("kind", String(32)),
    Column("reasons", String(400)),  # comma-joined, for filters
    Column("student_id", String(64)),
    Column("session_id", String(64)),
    Column("payload", Text, nullable=False),
    Column("received_at", Float, nullable=False),
)
Index("ix_events_device", events.c.device_id, events.c.event_id)
Index("ix_events_session", events.c.session_id, events.c.student_id)
Index("ix_events_student", events.c.student_id)

doors = Table(
    "doors",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("room", String(128)),
    Column("status", String(8)),  # online | offline (retained, and the Last Will)
    Column("status_at", Float),
    Column("state", String(10)),  # LOCKED | UNLOCKED | OPEN (retained)
    Column("state_at", Float),
    Column("health", Text),
    Column("health_at", Float),
    Column("last_decision", Text),
    Column("snoozed_until", Float),
    Column("snoozed_by", String(64)),
)

alarms = Table(
    "alarms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(28), nullable=False, unique=True),
    Column("last_event_id", String(28), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("ts", String(32), nullable=False),
    Column("last_ts", String(32), nullable=False),
    Column("last_at", Float, nullable=False),
    Column("count", Integer, nullable=False, default=1),
    Column("detail", Text, nullable=False),
    Column("state", String(8), nullable=False, default="open"),  # open | acked | closed
    Column("closed_by", String(64)),
    Column("closed_at", Float),
)
Index("ix_alarms_open", alarms.c.state, alarms.c.device_id, alarms.c.kind)

alarm_acks = Table(
    "alarm_acks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alarm_id", Integer, ForeignKey("alarms.id", ondelete="CASCADE"), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("note", String(500), nullable=False),
    Column("at", Float, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie's token
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("address", String(64)),
)

commands = Table(
    "commands",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("device_id", String(64), nullable=False),
    Column("cmd", String(16), nullable=False),
    Column("args", Text, nullable=False),
    Column("operator", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("state", String(10), nullable=False),  # pending | accepted | refused | timeout
    Column("reason", String(32)),
    Column("detail", String(500)),
    Column("answered_at", Float),
    # An override's code, sealed by the door with its key: opened once for the requester.
    Column("sealed_code", String(200)),
    Column("code_shown", Boolean, nullable=False, default=False),
)
Index("ix_commands_created", commands.c.created_at)

roster_sessions = Table(
    "roster_sessions",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("room", String(128), nullable=False),
    Column("start", String(40), nullable=False),
    Column("end", String(40), nullable=False),
    Column("imported_by", String(64), nullable=False),
    Column("imported_at", Float, nullable=False),
)

roster_students = Table(
    "roster_students",
    metadata,
    Column(
        "session_id",
        String(64),
        ForeignKey("roster_sessions.session_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("student_id", String(64), primary_key=True),
)

topic_last = Table(
    "topic_last",
    metadata,
    Column("topic", String(300), primary_key=True),
    Column("payload", Text, nullable=False),
    Column("at", Float, nullable=False),
    Column("count", Integer, nullable=False),
)

bad_messages = Table(
    "bad_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic", String(300), nullable=False),
    Column("device_id", String(64)),
    Column("problem", String(20), nullable=False),  # json | schema | huge | unknown_door | topic
    Column("error", String(500), nullable=False),
    Column("excerpt", String(200), nullable=False),
    Column("at", Float, nullable=False),
)

health_samples = Table(
    "health_samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("outbox_depth", Integer, nullable=False),
)
Index("ix_health_device", health_samples.c.device_id, health_samples.c.at)
