"""A real Mosquitto broker per test: its own process, port, config, PKI and persistence db.

Tests talk to the same broker the appliance uses in the field (Debian's `mosquitto`), so TLS,
password files, ACLs and persistent sessions are exercised for real rather than mocked.

Tests take the fixtures `broker` and `secure_broker` from this module. pytest finds them either
way, but ruff flags a test parameter named like an imported fixture (F811, not silenced by a
noqa on the import), so bind them by assignment::

    from tests import mosquitto_broker

    broker = mosquitto_broker.broker
    secure_broker = mosquitto_broker.secure_broker
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import NoReturn

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"

#: The accounts of `secure_broker`: the door, the exam proctor's dashboard and an operator.
SECURE_USERS: dict[str, str] = {
    "door-1": "door-pass",
    "proctor": "proctor-pass",
    "admin": "admin-pass",
}

#: The ACL of `secure_broker` (docs/mqtt.md's): a door owns its own subtree and writes only its
#: own Home Assistant discovery configs; the proctor only watches; the admin may command any door.
SECURE_ACL = """\
pattern readwrite facegate/%u/#
pattern write homeassistant/+/facegate_%u/#

user proctor
topic read facegate/#
topic read homeassistant/#

user admin
topic readwrite facegate/#
"""


def _missing(what: str) -> NoReturn:
    """Skip on a developer machine, but fail under CI where the broker must be installed."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed: CI must run scripts/ensure_mosquitto.sh first")
    pytest.skip(f"{what} is not installed (apt install mosquitto)")


def _find_tool(name: str, fallback: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    if os.access(fallback, os.X_OK):
        return fallback
    _missing(name)


def find_mosquitto() -> str:
    """The broker binary; Debian installs it in /usr/sbin, which is not on a user's PATH."""
    return _find_tool("mosquitto", "/usr/sbin/mosquitto")


def find_mosquitto_passwd() -> str:
    """`mosquitto_passwd`, so password files are hashed exactly as the broker expects."""
    return _find_tool("mosquitto_passwd", "/usr/bin/mosquitto_passwd")


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# --- PKI ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestPKI:
    """PEM files of a throwaway CA, a server cert for localhost/127.0.0.1 and a door's cert."""

    __test__ = False  # not a test class, although its name starts with "Test"

    directory: Path
    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """Private keys are created 0600 from the start, never world-readable even briefly."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "facegate tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _leaf(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    common_name: str,
    usage: x509.ObjectIdentifier,
    san: list[x509.GeneralName] | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """An end-entity cert with the extensions strict verifiers (OpenSSL 3, X509_STRICT) want."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def make_pki(directory: Path) -> TestPKI:
    """A fresh CA with a server and a client (CN "door-1") cert, written as PEM files."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    ca_name = _name("facegate test CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key, server_cert = _leaf(
        ca_key,
        ca_cert,
        "localhost",
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))],
    )
    client_key, client_cert = _leaf(ca_key, ca_cert, "door-1", ExtendedKeyUsageOID.CLIENT_AUTH)

    pki = TestPKI(
        directory=directory,
        ca_file=directory / "ca.crt",
        server_cert=directory / "server.crt",
        server_key=directory / "server.key",
        client_cert=directory / "client.crt",
        client_key=directory / "client.key",
    )
    _write_cert(pki.ca_file, ca_cert)
    _write_cert(pki.server_cert, server_cert)
    _write_key(pki.server_key, server_key)
    _write_cert(pki.client_cert, client_cert)
    _write_key(pki.client_key, client_key)
    return pki


_RUNNING = b" running\n"  # "mosquitto version 2.0.11 running": the listeners are open


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _read_from(path: Path, offset: int) -> bytes:
    """What a log gained since `offset`, so a restart is judged by its own lines."""
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read()
    except FileNotFoundError:
        return b""


def _reap(process: subprocess.Popen[bytes]) -> None:
    """Kill a broker nobody stopped, so no mosquitto outlives the test run."""
    if process.poll() is None:
        process.kill()
        process.wait(5)


# --- Broker ------------------------------------------------------------------------------------


class Broker:
    """One mosquitto process on 127.0.0.1 with its config, logs and db under `directory`.

    The port is chosen once, so a restarted broker is found where clients expect it.
    """

    host: str = HOST

    def __init__(
        self,
        directory: Path,
        *,
        users: dict[str, str] | None = None,
        acl: str | None = None,
        tls: TestPKI | None = None,
        require_client_cert: bool = False,
        persistence: bool = True,
        port: int | None = None,
    ) -> None:
        if require_client_cert and tls is None:
            raise ValueError("require_client_cert needs tls")
        self.binary = find_mosquitto()
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.users = dict(users) if users else None
        self.acl = acl
        self.tls = tls
        self.require_client_cert = require_client_cert
        self.persistence = persistence
        self.port = port if port is not None else free_port(self.host)
        self.config_file = self.directory / "mosquitto.conf"
        self.log_file = self.directory / "mosquitto.log"
        self.stderr_file = self.directory / "mosquitto.stderr"
        self.persistence_dir = self.directory / "db"
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config()

    # configuration

    def _write_password_file(self, path: Path) -> None:
        """Hashed by mosquitto's own tool, so the broker reads it as it would in the field."""
        assert self.users
        tool = find_mosquitto_passwd()
        path.unlink(missing_ok=True)
        for i, (user, password) in enumerate(self.users.items()):
            create = ["-c"] if i == 0 else []
            subprocess.run(
                [tool, *create, "-b", str(path), user, password],
                check=True,
                capture_output=True,
                timeout=10,
            )
        path.chmod(0o600)

    def _write_config(self) -> None:
        lines = [
            f"# written by tests/mosquitto_broker.py for a test on port {self.port}",
            # As root mosquitto would drop to user "mosquitto", which cannot read 0600 test keys.
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
            "per_listener_settings false",
            f"allow_anonymous {'false' if self.users else 'true'}",
            f"log_dest file {self.log_file}",
            "log_type all",
            "log_timestamp true",
            "connection_messages true",
            # A door offline for a while keeps thousands of QoS1 events queued, not dropped.
            "max_queued_messages 100000",
            "max_inflight_messages 100",
            "set_tcp_nodelay true",
        ]
        if self.persistence:
            self.persistence_dir.mkdir(exist_ok=True)
            lines += [
                "persistence true",
                # mosquitto appends the file name to this verbatim: the trailing slash matters.
                f"persistence_location {self.persistence_dir}/",
                "persistence_file mosquitto.db",
            ]
        else:
            lines.append("persistence false")
        if self.users:
            password_file = self.directory / "passwd"
            self._write_password_file(password_file)
            lines.append(f"password_file {password_file}")
        if self.acl is not None:
            acl_file = self.directory / "acl"
            acl_file.write_text(self.acl)
            acl_file.chmod(0o600)
            lines.append(f"acl_file {acl_file}")
        lines.append(f"listener {self.port} {self.host}")
        if self.tls:
            lines += [
                f"cafile {self.tls.ca_file}",
                f"certfile {self.tls.server_cert}",
                f"keyfile {self.tls.server_key}",
                f"require_certificate {'true' if self.require_client_cert else 'false'}",
            ]
        self.config_file.write_text("\n".join(lines) + "\n")

    # process control

    @property
    def url(self) -> str:
        """host:port, the form log messages and CLI options use."""
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout: float = 10) -> Broker:
        """Launch mosquitto; return once it logged "running" and its port accepts TCP.

        The log line rules out another process that holds the port and accepts in its place.
        """
        if self.running:
            return self
        log_start = _size(self.log_file)
        stderr_start = _size(self.stderr_file)
        with self.stderr_file.open("ab") as stderr:
            process = subprocess.Popen(
                [self.binary, "-c", str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the test run does not hit it first
            )
        self._process = process
        # Should a test drop the Broker without stopping it, the process still goes at exit.
        weakref.finalize(self, _reap, process)
        deadline = time.monotonic() + timeout
        while True:
            code = process.poll()
            if code is not None:
                self._process = None
                problem = f"mosquitto exited with {code} on start"
                break
            if _RUNNING in _read_from(self.log_file, log_start):
                try:
                    with socket.create_connection((self.host, self.port), timeout=0.2):
                        return self
                except OSError:
                    pass
            if time.monotonic() > deadline:
                self.kill()
                problem = f"mosquitto did not listen on {self.url} within {timeout} s"
                break
            time.sleep(0.01)
        output = _read_from(self.stderr_file, stderr_start).decode(errors="replace").strip()
        log = _read_from(self.log_file, log_start).decode(errors="replace").strip()
        pytest.fail(
            f"{problem} ({self.config_file}):\n{output}\n--- mosquitto.log ---\n{log}",
            pytrace=False,
        )

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, on which mosquitto writes its persistence db, then wait for the exit."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
            raise

    def kill(self) -> None:
        """SIGKILL: a power cut, nothing saved since the last autosave."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.kill()
        process.wait(5)

    def restart(self, timeout: float = 10) -> Broker:
        """A clean stop and a start on the same port, config and db."""
        self.stop()
        return self.start(timeout)

    # logs

    def log_tail(self, n: int = 40) -> str:
        """The last `n` lines of the broker's log, for assertion messages."""
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no mosquitto.log yet)"
        return "\n".join(lines[-n:])

    # context manager

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<Broker {self.url} {state} tls={self.tls is not None}>"


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A plain broker: anonymous, no TLS, persistence on, already started."""
    with Broker(tmp_path / "broker") as b:
        yield b


@pytest.fixture
def secure_broker(tmp_path: Path) -> Iterator[Broker]:
    """TLS with a fresh CA (`secure_broker.tls`), SECURE_USERS passwords and SECURE_ACL."""
    pki = make_pki(tmp_path / "pki")
    with Broker(tmp_path / "secure-broker", users=SECURE_USERS, acl=SECURE_ACL, tls=pki) as b:
        yield b
