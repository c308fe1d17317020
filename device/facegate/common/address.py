"""A broker given as ``HOST:PORT`` on a command line (the demo, ``mqtt command``, the bench)."""

from __future__ import annotations


def parse_host_port(text: str) -> tuple[str, int]:
    """``"host:1883"`` -> ``("host", 1883)``; ValueError naming the text otherwise."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host, int(port)
