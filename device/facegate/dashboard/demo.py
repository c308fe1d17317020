"""``facegate dashboard demo``: everything on this machine, in one command.

A Mosquitto of its own (127.0.0.1, a free port, a temporary folder), the door demo
(``facegate demo --broker``) publishing to it again and again, and the dashboard serving it
on http://127.0.0.1:PORT with a first admin whose password is printed. The demo's exam
session is imported as a roster, with one student who never comes, so attendance shows
both an entry and an absence.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from facegate.errors import FacegateError

ABSENT_STUDENT = "s-absent-1"


def find_mosquitto() -> str:
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None
    )
    if not found:
        raise FacegateError("the demo needs Mosquitto: apt-get install mosquitto")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_broker(work: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    conf = work / "mosquitto.conf"
    (work / "db").mkdir()
    # as root mosquitto would switch to the "mosquitto" user, which cannot write our folder
    user = pwd.getpwuid(os.geteuid()).pw_name
    conf.write_text(
        f"user {user}\nlistener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {work / 'db'}/\nmax_queued_messages 100000\n"
        f"log_dest file {work / 'mosquitto.log'}\n"
    )
    process = subprocess.Popen(
        [find_mosquitto(), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise FacegateError(f"mosquitto did not start (see {work / 'mosquitto.log'})")


def demo_roster() -> str:
    from facegate.access.roster import session_toml
    from facegate.demo.door_demo import ROOM, SESSION, STUDENT

    now = datetime.now(UTC)
    return session_toml(
        SESSION,
        ROOM,
        now - timedelta(minutes=30),
        now + timedelta(hours=2),
        [STUDENT, ABSENT_STUDENT],
        second_factor=True,
    )


async def prepare(settings, admin_password: str) -> None:
    from facegate.dashboard.attendance.roster_store import import_roster, parse_roster_text
    from facegate.dashboard.auth.users import add_user
    from facegate.dashboard.service import open_database

    engine = await open_database(settings)
    try:
        await add_user(engine, "admin", "admin", admin_password)
        await import_roster(engine, parse_roster_text(demo_roster()), "demo")
    finally:
        await engine.dispose()


def door_loop(port: int, rounds: int, stop: threading.Event, log: Path) -> None:
    """The door demo again and again (each run plays its four scenes and exits)."""
    done = 0
    while not stop.is_set() and (rounds == 0 or done < rounds):
        with log.open("ab") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "facegate",
                    "--config",
                    str(log.parent / "door.toml"),
                    "demo",
                    "--broker",
                    f"127.0.0.1:{port}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            while process.poll() is None:
                if stop.wait(0.5):
                    process.terminate()
                    process.wait(10)
                    return
        done += 1
        stop.wait(20)


def run_demo(
    port: int, admin_password: str | None, rounds: int, echo: Callable[[str], None]
) -> int:
    from facegate.dashboard.service import serve
    from facegate.dashboard.settings import settings_from_dict

    password = admin_password or secrets.token_urlsafe(12)
    work = Path(tempfile.mkdtemp(prefix="facegate-dashboard-demo-"))
    broker, broker_port = start_broker(work)
    stop = threading.Event()
    try:
        settings = settings_from_dict(
            {
                "state_dir": str(work / "state"),
                "server": {"host": "127.0.0.1", "port": port},
                "broker": {"host": "127.0.0.1", "port": broker_port},
            }
        )
        asyncio.run(prepare(settings, password))
        echo(f"mosquitto on 127.0.0.1:{broker_port}; the door demo publishes to it")
        echo(f"dashboard: http://127.0.0.1:{port}/  user: admin  password: {password}")
        echo(f"(door demo output: {work / 'door-demo.log'}; Ctrl-C stops everything)")
        # health every 2 s, so the door's card shows frames/s and outbox depth at once
        (work / "door.toml").write_text("[mqtt]\nhealth_interval_s = 2\n")
        door = threading.Thread(
            target=door_loop, args=(broker_port, rounds, stop, work / "door-demo.log"), daemon=True
        )
        door.start()
        # uvicorn re-raises the SIGTERM it caught once it has shut down: end through finally
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        serve(settings, "warning")
        return 0
    finally:
        stop.set()
        broker.send_signal(signal.SIGTERM)
        try:
            broker.wait(10)
        except subprocess.TimeoutExpired:
            broker.kill()
        shutil.rmtree(work, ignore_errors=True)
