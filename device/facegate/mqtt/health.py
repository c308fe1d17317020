"""The periodic health message (QoS 0, dropped when the broker is away)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from facegate.events.access_event import SCHEMA_VERSION

THERMAL_ZONE = Path("/sys/class/thermal/thermal_zone0/temp")


def cpu_temp_c(zone: Path = THERMAL_ZONE) -> float | None:
    """The SoC temperature where the kernel reports it (a Pi does; many VMs do not)."""
    try:
        return round(int(zone.read_text().strip()) / 1000.0, 1)
    except (OSError, ValueError):
        return None


def health_message(
    device_id: str,
    *,
    uptime_s: float,
    fps: float,
    outbox_depth: int,
    outbox_fill: float,
    last_error: str | None,
    mqtt_connected: bool,
    lockdown: bool,
    attempts: int,
    granted: int,
    clock_synchronised: bool | None = None,
) -> dict:
    return {
        "type": "health",
        "schema_version": SCHEMA_VERSION,
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "device_id": device_id,
        "uptime_s": round(uptime_s, 1),
        "fps": round(fps, 1),
        "cpu_temp_c": cpu_temp_c(),
        "outbox_depth": outbox_depth,
        "outbox_fill": round(outbox_fill, 4),
        "last_error": last_error,
        "mqtt_connected": mqtt_connected,
        "lockdown": lockdown,
        "attempts": attempts,
        "granted": granted,
        "clock_synchronised": clock_synchronised,
    }
