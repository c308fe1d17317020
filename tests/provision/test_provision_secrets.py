"""The fleet's secrets (made once, 0600, never overwritten, never printed) and their export for
the dashboard and a real Mosquitto: each door logs in with its own password and reaches only
its own topics."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.mosquitto_broker import Broker, find_mosquitto
from tests.provision.card import facegate
from tests.provision.conftest import write_fleet
from tests.test_mosquitto_broker import Peer

DOORS = ("door-1", "door-2", "door-3")


def secret_values(folder: Path) -> list[str]:
    return [p.read_text().split()[-1] for p in sorted(folder.rglob("*")) if p.is_file()]


def test_secrets_are_made_once_listed_and_never_printed(tmp_path):
    fleet = write_fleet(tmp_path / "fleet")
    listed = facegate("provision", "secrets", str(fleet))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("missing") == 9
    made = facegate("provision", "secrets", str(fleet), "--create")
    assert made.returncode == 0, made.stderr
    assert made.stdout.count("(new)") == 9 and made.stdout.count(" 0600 ") == 9
    folder = tmp_path / "fleet" / "secrets"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    for path in before:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = facegate("provision", "secrets", str(fleet), "--create")
    assert "(new)" not in again.stdout
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    for value in secret_values(folder):
        assert value not in made.stdout + again.stdout + listed.stdout


def test_one_fleet_gallery_key_by_choice(tmp_path):
    fleet = write_fleet(tmp_path / "fleet", gallery_key="fleet")
    done = facegate("provision", "secrets", str(fleet), "--create")
    assert done.returncode == 0, done.stderr
    names = [line.split()[:2] for line in done.stdout.splitlines()]
    assert names.count(["(fleet)", "gallery.key"]) == 1
    assert [n for n in names if n[1] == "gallery.key"] == [["(fleet)", "gallery.key"]]
    assert (tmp_path / "fleet/secrets/fleet/gallery.key").is_file()
    assert not (tmp_path / "fleet/secrets/doors/door-1/gallery.key").exists()


def test_a_secret_open_to_others_is_refused(tmp_path):
    fleet = write_fleet(tmp_path / "fleet")
    assert facegate("provision", "secrets", str(fleet), "--create").returncode == 0
    key = tmp_path / "fleet/secrets/doors/door-2/command.key"
    key.chmod(0o644)
    done = facegate("provision", "export-dashboard", str(fleet), str(tmp_path / "out"))
    assert done.returncode != 0
    assert "door-2" in done.stderr and "readable by others" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture
def exported(tmp_path) -> tuple[Path, Path]:
    fleet = write_fleet(tmp_path / "fleet")
    assert facegate("provision", "secrets", str(fleet), "--create").returncode == 0
    out = tmp_path / "export"
    done = facegate("provision", "dashboard-keys", str(fleet), str(out))
    assert done.returncode == 0, done.stderr
    return tmp_path / "fleet" / "secrets", out


def test_export_dashboard_is_the_old_name_of_dashboard_keys(exported, tmp_path):
    _, out = exported
    old = tmp_path / "old-name"
    done = facegate("provision", "export-dashboard", str(tmp_path / "fleet/fleet.toml"), str(old))
    assert done.returncode == 0, done.stderr
    assert sorted(p.relative_to(old) for p in old.rglob("*")) == sorted(
        p.relative_to(out) for p in out.rglob("*")
    )
    for key in (out / "doors").iterdir():
        assert (old / "doors" / key.name).read_bytes() == key.read_bytes()
    listed = facegate("provision", "--help").stdout
    assert "dashboard-keys" in listed and "export-dashboard" not in listed


def test_export_holds_each_doors_command_key(exported):
    secrets, out = exported
    for door in DOORS:
        key = out / "doors" / f"{door}.key"
        assert key.read_bytes() == (secrets / "doors" / door / "command.key").read_bytes()
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len((out / "mosquitto/passwd").read_text().splitlines()) == 3
    for door in DOORS:
        password = (secrets / "doors" / door / "mqtt.password").read_text().strip()
        assert password not in (out / "mosquitto/passwd").read_text()


def test_mosquitto_takes_the_exported_password_file_and_acl(exported, tmp_path):
    try:
        find_mosquitto()
    except BaseException:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("mosquitto not installed (scripts/ensure_mosquitto.sh)")
    secrets, out = exported
    broker = Broker(tmp_path / "broker", users={"placeholder": "x"}, acl="")
    (broker.directory / "passwd").write_bytes((out / "mosquitto/passwd").read_bytes())
    (broker.directory / "acl").write_bytes((out / "mosquitto/acl").read_bytes())
    broker.start()
    peers: list[Peer] = []
    try:

        def login(door: str, password: str | None = None) -> Peer:
            if password is None:
                password = (secrets / "doors" / door / "mqtt.password").read_text().strip()
            peer = Peer(broker, f"{door}-test", username=door, password=password)
            peers.append(peer)
            return peer

        assert login("door-1", "wrong").connect().is_failure
        door1, door2 = login("door-1"), login("door-2")
        assert not door1.connect().is_failure and not door2.connect().is_failure
        assert door2.subscribe("facegate/door-2/#")[0].value < 0x80
        door1.publish("facegate/door-2/cmd/unlock", "from door-1")
        door2.publish("facegate/door-2/status", "online")
        got = door2.receive(1)
        assert got[0].topic == "facegate/door-2/status" and got[0].payload == b"online"
        assert door2.messages.empty(), "door-1 reached door-2's topics"
        # Mosquitto grants the subscription and filters on delivery: door-2's next message
        # must not reach door-1, while door-1's own marker (published after it) does.
        door1.subscribe("facegate/door-2/#")
        door1.subscribe("facegate/door-1/#")
        door2.publish("facegate/door-2/event/access", "private")
        door1.publish("facegate/door-1/status", "marker")
        assert [m.payload for m in door1.receive(1)] == [b"marker"]
    finally:
        for peer in peers:
            peer.disconnect()
        broker.stop()
