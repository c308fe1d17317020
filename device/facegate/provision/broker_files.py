"""What the dashboard and the broker need from the fleet: per-door command keys, Mosquitto
password lines and ACL lines.

Password lines use Mosquitto 2's own format (``$7$``: PBKDF2-HMAC-SHA512, 101 iterations,
12-byte salt), as ``mosquitto_passwd`` writes it; a test starts a real Mosquitto on them.
"""

from __future__ import annotations

import base64
import hashlib
import os

from facegate.provision.fleet import Door

ITERATIONS = 101
SALT_BYTES = 12


def password_line(user: str, password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS)
    salt64 = base64.b64encode(salt).decode()
    return f"{user}:$7${ITERATIONS}${salt64}${base64.b64encode(digest).decode()}"


def acl_lines(door: Door, topic_root: str = "facegate", discovery: str = "homeassistant") -> str:
    """A door reads and writes only its own topics and its own discovery configs."""
    node = door.id.replace(".", "_")  # as mqtt.ha_discovery names it
    return (
        f"user {door.id}\n"
        f"topic readwrite {topic_root}/{door.id}/#\n"
        f"topic write {discovery}/+/facegate_{node}/#\n"
    )
