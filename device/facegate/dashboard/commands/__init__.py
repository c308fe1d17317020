"""Signed commands from the dashboard: checked, confirmed, signed, pending until answered."""
