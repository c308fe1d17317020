"""The systemd unit (hardening score, key directives), the sd_notify adapter and journal logging.

The service cannot run here (no systemd as PID 1), so the unit is checked as a file: scored by
``systemd-analyze security --offline=true`` and checked by ``systemd-analyze verify``. Without
systemd-analyze those two tests skip, and fail when CI=true.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from facegate.config import PathsConfig, default_data_dir
from facegate.service import SystemdNotifier, setup_logging
from facegate.service.logging_setup import stream_is_journal, syslog_priority

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "systemd" / "facegate.service"
CHECK = REPO / "scripts" / "check_unit_security.sh"
LIMIT = 2.5


def _need_systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is missing: CI must score systemd/facegate.service")
        pytest.skip("systemd-analyze not installed (apt install systemd)")
    return path


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> every value assigned, in order (systemd's repeated assignments)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"assignment outside a section: {raw!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=VALUE: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


@pytest.fixture(scope="module")
def unit() -> dict[str, dict[str, list[str]]]:
    return parse_unit(UNIT.read_text())


def _one(unit: dict, section: str, key: str) -> str:
    values = unit[section].get(key)
    assert values, f"[{section}] {key}= is missing"
    return values[-1]


# -- (a) the hardening score ------------------------------------------------------------------


def test_security_exposure_is_at_most_2_5(tmp_path: Path) -> None:
    _need_systemd_analyze()
    # Run from elsewhere: the script finds the repository by itself.
    done = subprocess.run(
        ["bash", str(CHECK)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    match = re.search(r"exposure of facegate\.service: ([0-9.]+)", done.stdout)
    assert match, done.stdout + done.stderr
    exposure = float(match.group(1))
    assert done.returncode == 0, done.stdout + done.stderr
    assert exposure <= LIMIT


def test_security_check_fails_an_unhardened_unit(tmp_path: Path) -> None:
    _need_systemd_analyze()
    bare = tmp_path / "bare.service"
    bare.write_text("[Service]\nExecStart=/bin/true\n")
    done = subprocess.run(
        ["bash", str(CHECK), str(bare)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "above 2.5" in done.stderr


@pytest.mark.parametrize("ci, code", [("", 0), ("true", 1)])
def test_security_check_without_systemd_analyze(ci: str, code: int) -> None:
    env = dict(os.environ, SYSTEMD_ANALYZE="no-such-systemd-analyze", CI=ci)
    done = subprocess.run(["bash", str(CHECK)], capture_output=True, text=True, env=env)
    assert done.returncode == code
    assert "not found" in done.stderr


def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    """verify reports unknown keys and bad values; only the venv binary is absent here."""
    _need_systemd_analyze()
    text = UNIT.read_text().replace(
        "ExecStart=/opt/facegate/venv/bin/facegate", "ExecStart=/bin/echo", 1
    )
    copy = tmp_path / "facegate.service"
    copy.write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "" and done.stdout.strip() == ""


# -- (b) the directives that the daemon and the safety rules depend on ---------------------------


def test_every_directive_says_why() -> None:
    """Each assignment is right below a comment (a reason), so the unit explains itself."""
    previous = ""
    bare = []
    for number, line in enumerate(UNIT.read_text().splitlines(), 1):
        if re.match(r"[A-Za-z]+=", line) and not previous.startswith("#"):
            bare.append(f"{number}: {line}")
        if line.strip():
            previous = line
    assert not bare, "directives without a comment: " + "; ".join(bare)


def test_lifecycle_directives(unit: dict) -> None:
    assert _one(unit, "Service", "Type") == "notify"
    assert _one(unit, "Service", "NotifyAccess") == "main"
    assert _one(unit, "Service", "WatchdogSec") == "10"
    assert _one(unit, "Service", "Restart") == "on-failure"
    assert _one(unit, "Service", "RestartSec") == "2"
    # The daemon locks the door on SIGTERM, also when the watchdog fires.
    assert _one(unit, "Service", "KillSignal") == "SIGTERM"
    assert _one(unit, "Service", "WatchdogSignal") == "SIGTERM"
    assert _one(unit, "Service", "ExecReload") == "/bin/kill -HUP $MAINPID"
    assert _one(unit, "Install", "WantedBy") == "multi-user.target"


def test_exec_start_finds_the_config_where_systemd_puts_it(
    unit: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`facegate run` with no --config reads $CONFIGURATION_DIRECTORY/facegate.toml."""
    argv = shlex.split(_one(unit, "Service", "ExecStart"))
    assert argv == ["/opt/facegate/venv/bin/facegate", "run"]
    assert _one(unit, "Service", "ConfigurationDirectory") == "facegate"
    from facegate.config import find_config_file

    (tmp_path / "facegate.toml").write_text("[device]\nid = 'door-7'\n")
    monkeypatch.delenv("FACEGATE_CONFIG", raising=False)
    monkeypatch.setenv("CONFIGURATION_DIRECTORY", str(tmp_path))
    assert find_config_file() == tmp_path / "facegate.toml"


def test_the_command_line_reads_the_config_systemd_points_at(tmp_path: Path) -> None:
    """Found by the emulated first boot: the CLI ignored $CONFIGURATION_DIRECTORY, so
    `facegate run` under the unit (no --config) ran on the built-in defaults. A bad file there
    must now be read, and refused naming it."""
    (tmp_path / "facegate.toml").write_text("[device]\nid = 'no spaces allowed'\n")
    env = {
        k: v for k, v in os.environ.items() if k not in ("FACEGATE_CONFIG", "CREDENTIALS_DIRECTORY")
    }
    done = subprocess.run(
        [sys.executable, "-m", "facegate", "check-models"],
        capture_output=True,
        text=True,
        env={**env, "CONFIGURATION_DIRECTORY": str(tmp_path)},
        timeout=120,
    )
    assert done.returncode == 78, done.stdout + done.stderr
    assert str(tmp_path / "facegate.toml") in done.stderr and "device.id" in done.stderr


def test_a_configuration_error_is_not_restarted(unit: dict) -> None:
    assert _one(unit, "Service", "RestartPreventExitStatus") == "78"
    assert "time-sync.target" in unit["Unit"]["Wants"]
    assert "time-sync.target" in unit["Unit"]["After"]


def test_the_mqtt_drop_in_hands_both_secrets_over_as_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from facegate.config import MqttConfig

    drop_in = parse_unit((REPO / "systemd" / "facegate.service.d" / "mqtt.conf").read_text())
    sources = dict(v.split(":", 1) for v in drop_in["Service"]["LoadCredential"])
    assert sources == {
        "command.key": "/etc/facegate/command.key",
        "mqtt.password": "/etc/facegate/mqtt.password",
    }
    for name in sources:
        (tmp_path / name).write_text("x\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    config = MqttConfig(username="door-1")
    assert config.command_key_path() == tmp_path / "command.key"
    assert config.password_path() == tmp_path / "mqtt.password"


def test_a_key_handed_over_as_a_credential_with_an_acl_mode_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """systemd 255+ (Trixie) grants the credential by ACL, which stat shows as 0440: inside
    $CREDENTIALS_DIRECTORY that is not other users' access; elsewhere it still is."""
    from facegate.common.key_files import create_key_file, read_key_file
    from facegate.errors import KeyFileError

    creds = tmp_path / "creds"
    creds.mkdir()
    key = creds / "gallery.key"
    create_key_file(key)
    key.chmod(0o440)
    with pytest.raises(KeyFileError, match="accessible to other users"):
        read_key_file(key)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert len(read_key_file(key)) == 32


def test_identity_groups_and_directories(unit: dict) -> None:
    assert _one(unit, "Service", "User") == "facegate"
    assert _one(unit, "Service", "Group") == "facegate"
    groups = " ".join(unit["Service"]["SupplementaryGroups"]).split()
    assert {"video", "gpio", "input"} <= set(groups)
    assert _one(unit, "Service", "StateDirectory") == "facegate"
    assert _one(unit, "Service", "StateDirectoryMode") == "0700"
    assert _one(unit, "Service", "ConfigurationDirectory") == "facegate"
    assert _one(unit, "Service", "UMask") == "0077"
    assert _one(unit, "Service", "LimitCORE") == "0"
    assert _one(unit, "Service", "CapabilityBoundingSet") == ""
    # lgpio puts its FIFOs in the working directory (or $LG_WD): it must be writable.
    assert _one(unit, "Service", "WorkingDirectory") == "/run/facegate"
    assert _one(unit, "Service", "RuntimeDirectory") == "facegate"
    assert "LG_WD=/run/facegate" in unit["Service"]["Environment"]


def test_devices_are_allow_listed(unit: dict) -> None:
    assert _one(unit, "Service", "DevicePolicy") == "closed"
    allowed = dict(v.split() for v in unit["Service"]["DeviceAllow"])
    assert allowed == {
        "char-gpiochip": "rw",
        "char-video4linux": "rw",
        "char-media": "rw",
        "char-dma_heap": "rw",
        "char-input": "r",
    }


def test_unit_directories_match_what_config_reads(
    unit: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """StateDirectory= and LoadCredential=gallery.key are what config.py looks for."""
    credential, _, source = _one(unit, "Service", "LoadCredential").partition(":")
    assert credential == "gallery.key"
    assert source == "/etc/facegate/gallery.key"
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/facegate")
    assert default_data_dir() == Path("/var/lib/facegate")
    (tmp_path / credential).write_bytes(b"k" * 32)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert PathsConfig().resolved_key_file() == tmp_path / "gallery.key"


def _start_pre_script(unit: dict, sysfs: Path) -> str:
    argv = shlex.split(_one(unit, "Service", "ExecStartPre"))
    assert argv[:2] == ["/bin/sh", "-c"] and len(argv) == 3
    return argv[2].replace("/sys/module/", f"{sysfs}/")


@pytest.mark.parametrize(
    "values, refused",
    [
        ({}, False),  # not a Raspberry Pi kernel
        ({"pinctrl_rp1": "N"}, False),  # dtparam=strict_gpiod
        ({"pinctrl_rp1": "Y"}, True),  # Pi 5 default: outputs stay driven after a crash
        ({"pinctrl_bcm2835": "Y"}, True),
    ],
)
def test_start_is_refused_when_released_gpio_outputs_stay_driven(
    unit: dict, tmp_path: Path, values: dict[str, str], refused: bool
) -> None:
    for module, value in values.items():
        param = tmp_path / module / "parameters" / "persist_gpio_outputs"
        param.parent.mkdir(parents=True)
        param.write_text(value + "\n")
    done = subprocess.run(
        ["/bin/sh", "-c", _start_pre_script(unit, tmp_path)], capture_output=True, text=True
    )
    assert (done.returncode != 0) is refused
    assert ("strict_gpiod" in done.stderr) is refused


# -- (c) the notifier against real datagram sockets ----------------------------------------------


def _receiver(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(5)
    return sock


@pytest.fixture
def path_socket(tmp_path: Path):
    where = tmp_path
    if len(str(where / "notify")) > 100:  # sun_path holds 108 bytes
        where = Path(tempfile.mkdtemp(prefix="fg-"))
    path = where / "notify"
    sock = _receiver(str(path))
    yield str(path), sock
    sock.close()


@pytest.fixture
def abstract_socket():
    name = f"facegate-test-{uuid.uuid4().hex}"
    sock = _receiver("\0" + name)
    yield "@" + name, sock
    sock.close()


@pytest.mark.parametrize("kind", ["path_socket", "abstract_socket"])
def test_notifier_sends_exact_datagrams(kind: str, request: pytest.FixtureRequest) -> None:
    address, receiver = request.getfixturevalue(kind)
    with SystemdNotifier({"NOTIFY_SOCKET": address}) as notifier:
        assert notifier.enabled
        assert notifier.ready()
        assert notifier.ready("watching door-1")
        assert notifier.status("camera lost\nREADY=1")
        assert notifier.watchdog()
        assert notifier.extend_timeout(2.5)
        assert notifier.stopping("locking the door")
        assert notifier.send("A=1", "B=2")
    got = [receiver.recv(4096) for _ in range(7)]
    assert got == [
        b"READY=1",
        b"READY=1\nSTATUS=watching door-1",
        b"STATUS=camera lost READY=1",  # a newline cannot smuggle in another assignment
        b"WATCHDOG=1",
        b"EXTEND_TIMEOUT_USEC=2500000",
        b"STOPPING=1\nSTATUS=locking the door",
        b"A=1\nB=2",
    ]


def test_notifier_is_a_no_op_outside_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    notifier = SystemdNotifier()
    assert not notifier.enabled
    assert notifier.watchdog_interval() is None
    for call in (notifier.ready, notifier.watchdog, notifier.stopping):
        assert call() is False
    assert notifier.status("x") is False
    assert notifier._sock is None  # no socket was even opened
    notifier.close()


@pytest.mark.parametrize("value", ["", "vsock:2:1234", "relative/path", "@"])
def test_unusable_notify_socket_disables_notifications(value: str) -> None:
    assert not SystemdNotifier({"NOTIFY_SOCKET": value}).enabled


def test_a_failed_send_returns_false_and_does_not_raise(tmp_path: Path) -> None:
    notifier = SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert notifier.enabled
    assert notifier.watchdog() is False
    assert notifier.watchdog() is False
    notifier.close()


@pytest.mark.parametrize(
    "env, interval",
    [
        ({"WATCHDOG_USEC": "10000000"}, 5.0),
        ({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "4242"}, 5.0),
        ({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}, None),  # another process's
        ({"WATCHDOG_USEC": "3000"}, 0.0015),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "10s"}, None),
        ({"WATCHDOG_PID": "4242"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval(env: dict[str, str], interval: float | None) -> None:
    env = {"NOTIFY_SOCKET": "/run/systemd/notify", **env}
    assert SystemdNotifier(env, pid=4242).watchdog_interval() == interval


def test_watchdog_pid_defaults_to_this_process() -> None:
    env = {"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    assert SystemdNotifier(env).watchdog_interval() == 1.0


# -- journal logging -----------------------------------------------------------------------------


@pytest.fixture
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_journal_lines_carry_the_syslog_priority(restore_root_logger: None) -> None:
    out = io.StringIO()
    setup_logging("debug", stream=out, journal=True)
    log = logging.getLogger("facegate.test")
    log.debug("d")
    log.info("granted %s", "s123")
    log.warning("w")
    log.error("e")
    log.critical("c")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed")
    lines = out.getvalue().splitlines()
    assert lines[:5] == [
        "<7>facegate.test: d",
        "<6>facegate.test: granted s123",
        "<4>facegate.test: w",
        "<3>facegate.test: e",
        "<2>facegate.test: c",
    ]
    # Every traceback line keeps the error priority (journald reads each line on its own).
    assert lines[5] == "<3>facegate.test: failed"
    assert len(lines) > 6 and all(line.startswith("<3>") for line in lines[5:])
    assert lines[-1] == "<3>RuntimeError: boom"


def test_plain_lines_outside_the_journal(restore_root_logger: None) -> None:
    out = io.StringIO()
    setup_logging("warning", stream=out, journal=False)
    logging.getLogger("facegate.test").info("hidden")
    logging.getLogger("facegate.test").warning("shown")
    text = out.getvalue()
    assert "hidden" not in text
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING +facegate.test: shown\n", text
    )


def test_setup_logging_replaces_its_own_handler(restore_root_logger: None) -> None:
    first = setup_logging("info", stream=io.StringIO(), journal=False)
    second = setup_logging("info", stream=io.StringIO(), journal=False)
    handlers = logging.getLogger().handlers
    assert second in handlers and first not in handlers


def test_journal_is_detected_from_journal_stream(tmp_path: Path) -> None:
    with open(tmp_path / "stream", "w") as stream:
        st = os.fstat(stream.fileno())
        assert stream_is_journal(stream, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        assert not stream_is_journal(stream, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"})
        assert not stream_is_journal(stream, {"JOURNAL_STREAM": "garbage"})
        assert not stream_is_journal(stream, {})
    assert not stream_is_journal(io.StringIO(), {"JOURNAL_STREAM": "1:2"})


def test_bad_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        setup_logging("loud")


def test_priority_mapping() -> None:
    assert [syslog_priority(n) for n in (5, 10, 20, 30, 40, 50, 60)] == [7, 7, 6, 4, 3, 2, 2]
