"""The dashboard's test rig: a real Mosquitto (TLS, passwords, ACL) with its own users, the
dashboard as a subprocess of ``facegate dashboard serve``, the door as ``facegate run`` (mock
pins, no camera) or ``facegate demo --broker``, and headless chromium.

A browser that was open when its test failed leaves a screenshot in .artifacts/dashboard/.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from facegate.common.key_files import create_key_file
from tests.dashboard.browser import Browser
from tests.mosquitto_broker import Broker, free_port, make_pki

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / ".artifacts" / "dashboard"

USERS = {
    "door-1": "door-1-pass",
    "demo-door": "demo-door-pass",
    "dashboard": "dashboard-pass",
    "operator": "operator-pass",
}
# The dashboard reads everything and may only publish commands; doors own their subtree;
# "operator" plays a person with mosquitto_pub (bursts, malformed messages, duplicates).
ACL = """\
user door-1
topic readwrite facegate/door-1/#
topic write homeassistant/#

user demo-door
topic readwrite facegate/demo-door/#
topic write homeassistant/#

user dashboard
topic read facegate/#
topic write facegate/+/cmd/#

user operator
topic readwrite facegate/#
"""
PASSWORDS = {
    "admin": "admin-password-1",
    "office": "office-password-1",
    "proctor": "proctor-pass-1",
}
ROLES = {"admin": "admin", "office": "exam_office", "proctor": "proctor"}


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def dash_broker(tmp_path: Path) -> Iterator[Broker]:
    pki = make_pki(tmp_path / "pki")
    with Broker(tmp_path / "broker", users=USERS, acl=ACL, tls=pki) as b:
        yield b


def secret_file(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / name
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


class Dashboard:
    """``facegate dashboard serve`` in a subprocess, restartable on the same port and data."""

    def __init__(
        self,
        tmp_path: Path,
        broker: Broker,
        database_url: str | None = None,
        database_password_file: Path | None = None,
        **extra: str,
    ) -> None:
        assert broker.tls is not None
        self.dir = tmp_path / "dashboard"
        self.dir.mkdir(exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.keys = self.dir / "keys"
        self.keys.mkdir(exist_ok=True, mode=0o700)
        password = secret_file(self.dir / "secrets", "mqtt-password", USERS["dashboard"])
        db = f'url = "{database_url}"\n' if database_url else ""
        if database_password_file is not None:
            db += f'password_file = "{database_password_file}"\n'
        self.db_url = database_url
        lines = [
            f'state_dir = "{self.dir / "state"}"',
            "[server]",
            f"port = {self.port}",
            "[database]",
            db,
            "[broker]",
            f'host = "{broker.host}"',
            f"port = {broker.port}",
            'username = "dashboard"',
            f'password_file = "{password}"',
            f'client_id = "dashboard-{self.port}"',
            "keepalive_s = 5",
            "[broker.tls]",
            f'ca_file = "{broker.tls.ca_file}"',
            "[commands]",
            f'key_dir = "{self.keys}"',
            f"timeout_s = {extra.get('timeout_s', '6')}",
            "[alarms]",
            "flood_window_s = 60",
        ]
        self.config = self.dir / "dashboard.toml"
        self.config.write_text("\n".join(lines) + "\n")
        self.log = self.dir / "dashboard.log"
        self.process: subprocess.Popen | None = None

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "facegate", "dashboard", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )

    def add_users(self) -> None:
        """admin through the CLI (as an installer would), the others in-process (faster)."""
        from facegate.dashboard.auth.users import add_user
        from facegate.dashboard.store.engine import open_engine

        pw = secret_file(self.dir / "secrets", "admin.pw", PASSWORDS["admin"])
        self.cli("add-user", "admin", "--role", "admin", "--password-file", str(pw))

        async def others() -> None:
            engine = await open_engine(self.database_url())
            try:
                for name, role in ROLES.items():
                    if name != "admin":
                        await add_user(engine, name, role, PASSWORDS[name])
            finally:
                await engine.dispose()

        asyncio.run(others())

    def add_key(self, device_id: str, key_file: Path) -> None:
        target = self.keys / f"{device_id}.key"
        target.write_bytes(key_file.read_bytes())
        target.chmod(0o600)

    def start(self, timeout: float = 60.0) -> Dashboard:
        offset = self.log.stat().st_size if self.log.exists() else 0
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "facegate",
                "dashboard",
                "--config",
                str(self.config),
                "serve",
                "--log-level",
                "info",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text(errors="replace")[-3000:]
            try:
                urllib.request.urlopen(self.url + "/login", timeout=2).read()
                if b"connected to" in self.log.read_bytes()[offset:]:
                    return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise AssertionError("the dashboard did not start:\n" + self.log.read_text()[-3000:])

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite+aiosqlite:///{self.dir / 'state' / 'dashboard.sqlite3'}"


@pytest.fixture
def dashboards(tmp_path: Path):
    made: list[Dashboard] = []

    def make(broker: Broker, **kw) -> Dashboard:
        d = Dashboard(tmp_path, broker, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop()


@pytest.fixture
def browsers(request):
    """Open browsers; each is checked for console errors at the end of its test, and leaves
    a screenshot when the test failed."""
    opened: list[Browser] = []

    def open_browser(base_url: str, name: str = "browser") -> Browser:
        b = Browser(base_url, name)
        opened.append(b)
        return b

    yield open_browser
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    try:
        for b in opened:
            if failed:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                b.screenshot(ARTIFACTS / f"{request.node.name}-{b.name}.png")
        if not failed:
            for b in opened:
                b.assert_clean()
    finally:
        for b in opened:
            b.quit()


# --- the real door ----------------------------------------------------------------------------


def door_config(
    tmp_path: Path,
    broker: Broker,
    device: str,
    key: Path,
    room: str = "r1",
    camera_dead_after_s: float = 60,
) -> Path:
    """``facegate run`` on mock pins with a camera that is not plugged in (test_mqtt_door)."""
    assert broker.tls is not None
    base = tmp_path / device
    secrets = base / "secrets"
    password = secret_file(secrets, "mqtt.pass", USERS[device])
    text = f"""
[device]
id = "{device}"
room = "{room}"

[paths]
data_dir = "{base / "data"}"

[hardware]
pin_factory = "mock"
unlock_s = 1.0

[camera]
kind = "opencv"
device = "{base / "unplugged-camera.mp4"}"
dead_after_s = {camera_dead_after_s}

[mqtt]
enabled = true
host = "{broker.host}"
port = {broker.port}
username = "{device}"
password_file = "{password}"
keepalive_s = 5
health_interval_s = 2
command_key_file = "{key}"

[mqtt.tls]
ca_file = "{broker.tls.ca_file}"
"""
    config = base / "facegate.toml"
    config.write_text(text)
    return config


def make_gallery(config: Path, pipeline) -> None:
    from facegate.config import load_settings
    from facegate.identity.gallery import open_configured_gallery

    s = load_settings(config)
    emb = pipeline.embedder
    with open_configured_gallery(s.paths, emb.name, emb.dim, create=True):
        pass


def new_key(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    create_key_file(path)
    return path


class DoorProcess:
    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> DoorProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "facegate", "--config", str(self.config), "run"],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture
def doors():
    started: list[DoorProcess] = []

    def make(config: Path, log: Path) -> DoorProcess:
        d = DoorProcess(config, log).start()
        started.append(d)
        return d

    yield make
    for d in started:
        d.stop()


def db_rows(url: str, sql: str, params: dict | None = None) -> list:
    """Rows of a query against the dashboard's database, read as an outsider would."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run():
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return (await conn.execute(text(sql), params or {})).all()
        finally:
            await engine.dispose()

    return asyncio.run(run())


def os_environ_ci() -> bool:
    return os.environ.get("CI") == "true"


# --- PostgreSQL, started by the test -------------------------------------------------------------


class Postgres:
    """Debian's PostgreSQL in a temporary folder (initdb + pg_ctl), password auth on 127.0.0.1.

    initdb refuses to run as root: as root the cluster belongs to ``nobody``.
    """

    def __init__(self) -> None:
        import glob
        import pwd
        import shutil
        import tempfile

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            if os_environ_ci():
                pytest.fail("PostgreSQL is missing: CI must run scripts/ensure_dashboard_deps.sh")
            pytest.skip("PostgreSQL is not installed (scripts/ensure_dashboard_deps.sh)")
        self.bin = Path(found[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="facegate-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.password = "pg-test-password"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.root, nobody.pw_uid, nobody.pw_gid)
            self.prefix = ["runuser", "-u", "nobody", "--"]
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            os.chown(pwfile, pwd.getpwnam("nobody").pw_uid, -1)
        self._shutil = shutil
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-sync",
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.root / "log"),
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on",
            "start",
        )
        self.password_file = secret_file(self.root / "client", "password", self.password)

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [*self.prefix, str(self.bin / tool), *args], capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise AssertionError(f"{tool} failed: {result.stdout}\n{result.stderr}")

    def create_database(self, name: str) -> str:
        import asyncpg

        async def create():
            conn = await asyncpg.connect(
                host="127.0.0.1",
                port=self.port,
                user="postgres",
                password=self.password,
                database="postgres",
            )
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    def url_with_password(self, url: str) -> str:
        return url.replace("postgres@", f"postgres:{self.password}@")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            self._shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    yield server
    server.stop()
