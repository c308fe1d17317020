"""Attendance per exam session: the doors' roster against their access events."""
