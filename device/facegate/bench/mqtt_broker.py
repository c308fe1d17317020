"""A temporary mosquitto for the MQTT benchmark: its own process, free port, config and log.

Without ``--broker`` the benchmark starts one on 127.0.0.1 (no persistence,
``max_queued_messages`` as docs/mqtt.md sets it, otherwise mosquitto's defaults) and stops it
afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from facegate.errors import FacegateError

MOSQUITTO_FALLBACK = "/usr/sbin/mosquitto"  # Debian's place, not on a user's PATH
HOST = "127.0.0.1"


def find_mosquitto() -> str:
    found = shutil.which("mosquitto")
    if found:
        return found
    if os.access(MOSQUITTO_FALLBACK, os.X_OK):
        return MOSQUITTO_FALLBACK
    raise FacegateError("no mosquitto to start (apt install mosquitto), or pass --broker HOST:PORT")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class TemporaryBroker:
    """A mosquitto process on a free 127.0.0.1 port, its config and log in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.binary = find_mosquitto()
        self.directory = Path(directory)
        self.port = _free_port()
        self.config_file = self.directory / "mosquitto.conf"
        self.log_file = self.directory / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.config_file.write_text(
            "\n".join(
                [
                    # As root mosquitto would switch to the user "mosquitto", which may not
                    # exist or may not write here.
                    f"user {pwd.getpwuid(os.geteuid()).pw_name}",
                    "allow_anonymous true",
                    "persistence false",
                    # As docs/mqtt.md sets it up: with mosquitto's default of 1000, a
                    # backlog drained at full speed overflows a QoS 1 subscriber's queue and
                    # the broker drops what does not fit, after acknowledging it to the door.
                    "max_queued_messages 100000",
                    f"log_dest file {self.log_file}",
                    # mosquitto's default log types: no line per message
                    f"listener {self.port} {HOST}",
                ]
            )
            + "\n"
        )

    @property
    def version(self) -> str:
        done = subprocess.run([self.binary, "-h"], capture_output=True, text=True, timeout=10)
        first = (done.stdout or done.stderr).strip().splitlines()
        return first[0] if first else "mosquitto"

    def start(self, timeout: float = 10.0) -> TemporaryBroker:
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self.config_file)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C reaches the bench first, which stops it
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read() if self._process.stderr else b""
                raise FacegateError(f"mosquitto exited on start: {err.decode().strip()}")
            log = self.log_file.read_bytes() if self.log_file.exists() else b""
            if b" running" in log:
                try:
                    with socket.create_connection((HOST, self.port), timeout=0.2):
                        return self
                except OSError:
                    pass
            time.sleep(0.01)
        self.stop()
        raise FacegateError(f"mosquitto did not listen on {HOST}:{self.port} in {timeout} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def __enter__(self) -> TemporaryBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
