"""Storage: SQLAlchemy 2 Core over SQLite (WAL, the default) or PostgreSQL."""
