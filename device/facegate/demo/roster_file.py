"""Roster files written on the fly, for the demo, the benchmarks and the tests: one session
around the current time (the door itself only reads rosters)."""

from __future__ import annotations

from datetime import datetime


def session_toml(
    session_id: str,
    room: str,
    start: datetime,
    end: datetime,
    students: list[str],
    second_factor: bool = False,
) -> str:
    """One ``[[session]]`` table in the roster format (the demo, tests and benchmarks write
    sessions around the current time)."""
    ids = ", ".join(f'"{s}"' for s in students)
    first, last = start.isoformat(timespec="seconds"), end.isoformat(timespec="seconds")
    return (
        f'[[session]]\nid = "{session_id}"\nroom = "{room}"\nstart = {first}\nend = {last}\n'
        f"students = [{ids}]\nsecond_factor = {str(second_factor).lower()}\n"
    )
