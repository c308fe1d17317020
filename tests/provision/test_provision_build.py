"""``facegate provision build`` on synthetic Raspberry Pi OS images, read back with debugfs and
mtools: each door's config, hostname, units, first-boot unit enabled, secrets root 0600 in the
ext4 root and nowhere on FAT, e2fsck clean, two builds byte-identical, .xz input, Trixie."""

from __future__ import annotations

import base64
import shutil
import tomllib
from pathlib import Path

import pytest

from tests.provision.card import (
    REPO,
    facegate,
    fat_bytes,
    fat_file,
    fsck_clean,
    root_file,
    root_stat,
    sha256,
)
from tests.provision.conftest import PASSPHRASE, SMALL, WIFI_PSK

DOORS = {"door-1": "door-1", "door-2": "door-2", "door-3": "door-hall"}


def build_args(fleet_dir: Path, image: Path, out: Path, wheelhouse: Path, *extra: str) -> list:
    args = ["provision", "build", str(fleet_dir / "fleet.toml"), "--image", str(image)]
    args += ["--out", str(out), "--wheelhouse", str(wheelhouse)]
    args += ["--gallery", str(fleet_dir / "gallery.export")]
    args += ["--gallery-passphrase-file", str(fleet_dir / "passphrase")]
    args += ["--roster", str(fleet_dir / "roster.toml")]
    for name in SMALL:
        args += ["--require", name]
    return [*args, *extra]


def secrets_of(fleet_dir: Path) -> list[bytes]:
    """Every secret value and the base64 body of each key, as they could appear on disk."""
    found = [WIFI_PSK.encode(), PASSPHRASE.encode()]
    for path in sorted((fleet_dir / "secrets").rglob("*")):
        if path.is_file():
            text = path.read_bytes().strip()
            found.append(text)
            body = text.split(b" ")[-1]
            found += [body, base64.urlsafe_b64decode(body)] if path.suffix == ".key" else []
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory, bookworm, wheelhouses):
    from tests.provision.conftest import _gallery_bundle, write_fleet

    root = tmp_path_factory.mktemp("built")
    fleet_dir = root / "fleet"
    write_fleet(fleet_dir)
    _gallery_bundle(fleet_dir / "gallery.export")
    (fleet_dir / "passphrase").write_text(PASSPHRASE + "\n")
    before = sha256(bookworm)
    done = facegate(*build_args(fleet_dir, bookworm, root / "out", wheelhouses["3.11"]))
    assert done.returncode == 0, done.stderr
    assert sha256(bookworm) == before, "the base image was changed"
    return fleet_dir, root / "out", done


def test_each_door_gets_its_config_hostname_and_units(built):
    fleet_dir, out, done = built
    assert "3 image(s)" in done.stdout
    for door, hostname in DOORS.items():
        image = out / f"{door}.img"
        assert root_file(image, "/etc/hostname") == f"{hostname}\n".encode()
        config = tomllib.loads(root_file(image, "/etc/facegate/facegate.toml").decode())
        assert config["device"]["id"] == door
        assert config["mqtt"]["username"] == door
        assert config["mqtt"]["host"] == "broker.school.example"
        assert config["mqtt"]["tls"]["ca_file"] == "/etc/facegate/broker-ca.crt"
        assert config["access"]["roster_file"] == "/etc/facegate/roster.toml"
        assert config["access"]["code_timeout_s"] == 20.0
        assert (
            root_file(image, "/etc/facegate/broker-ca.crt") == (fleet_dir / "ca.crt").read_bytes()
        )
        unit = root_file(image, "/etc/systemd/system/facegate.service")
        assert unit == (REPO / "systemd/facegate.service").read_bytes()
        assert b"LoadCredential=command.key" in root_file(
            image, "/etc/systemd/system/facegate.service.d/mqtt.conf"
        )
        link = root_stat(
            image, "/etc/systemd/system/multi-user.target.wants/facegate-firstboot.service"
        )
        assert link["type"] == "symlink"
        assert link["target"] == "/etc/systemd/system/facegate-firstboot.service"
        script = root_stat(image, "/usr/local/sbin/facegate-firstboot")
        assert (script["mode"], script["uid"]) == (0o755, 0)
        admin = root_file(image, "/etc/facegate/provision/admin.conf").decode()
        assert f"DOOR_HOSTNAME={hostname}" in admin and "REQUIREMENT='markupsafe pyotp'" in admin
        wheels = root_file(image, "/etc/facegate/provision/manifest.json").decode()
        assert "MarkupSafe" in wheels and '"os": "bookworm"' in wheels
        ok, report = fsck_clean(image)
        assert ok, report
    camera = tomllib.loads(root_file(out / "door-3.img", "/etc/facegate/facegate.toml").decode())
    assert camera["camera"]["width"] == 1280
    assert "camera" not in tomllib.loads(
        root_file(out / "door-1.img", "/etc/facegate/facegate.toml").decode()
    )


def test_network_profiles(built):
    _, out, _ = built
    wired = root_file(
        out / "door-1.img", "/etc/NetworkManager/system-connections/facegate-ethernet.nmconnection"
    )
    assert b"method=auto" in wired
    static = root_file(
        out / "door-2.img", "/etc/NetworkManager/system-connections/facegate-ethernet.nmconnection"
    )
    assert b"address1=10.0.0.2/24,10.0.0.1" in static
    path = "/etc/NetworkManager/system-connections/facegate-wifi.nmconnection"
    wifi = root_file(out / "door-3.img", path)
    assert b"ssid=exams" in wifi and f"psk={WIFI_PSK}".encode() in wifi
    info = root_stat(out / "door-3.img", path)
    assert (info["mode"], info["uid"], info["gid"]) == (0o600, 0, 0)


def test_secrets_are_root_0600_in_the_root_and_equal_to_the_fleet_folder(built):
    fleet_dir, out, _ = built
    for door in DOORS:
        image = out / f"{door}.img"
        for name in ("gallery.key", "command.key", "mqtt.password"):
            info = root_stat(image, f"/etc/facegate/{name}")
            assert (info["type"], info["mode"], info["uid"], info["gid"]) == (
                "regular",
                0o600,
                0,
                0,
            )
            assert (
                root_file(image, f"/etc/facegate/{name}")
                == (fleet_dir / "secrets" / "doors" / door / name).read_bytes()
            )
        for path in (
            "/var/lib/facegate-provision/gallery.passphrase",
            "/etc/facegate/facegate.toml",
        ):
            assert root_stat(image, path)["mode"] == 0o600
    keys = {(fleet_dir / "secrets/doors" / d / "command.key").read_bytes() for d in DOORS}
    assert len(keys) == 3, "each door has its own command key"


def test_no_secret_on_the_fat_partition(built):
    fleet_dir, out, _ = built
    secrets = secrets_of(fleet_dir)
    assert len(secrets) > 10
    for door in DOORS:
        fat = fat_bytes(out / f"{door}.img")
        leaked = [s[:6] for s in secrets if s in fat]
        assert not leaked, f"{door}: secret bytes on FAT"


def test_config_txt_gets_strict_gpiod_under_all(built):
    _, out, _ = built
    text = fat_file(out / "door-1.img", "config.txt").decode()
    assert text.startswith("# Raspberry Pi OS\ndtparam=audio=on")
    assert text.rstrip().endswith("[all]\ndtparam=strict_gpiod")


def test_two_builds_are_byte_identical(built, bookworm, wheelhouses, tmp_path):
    fleet_dir, out, _ = built
    done = facegate(*build_args(fleet_dir, bookworm, tmp_path / "again", wheelhouses["3.11"]))
    assert done.returncode == 0, done.stderr
    for door in DOORS:
        assert sha256(tmp_path / "again" / f"{door}.img") == sha256(out / f"{door}.img"), door


def test_inspect_lists_door_and_secret_files_without_their_values(built):
    import json

    fleet_dir, out, _ = built
    done = facegate("provision", "inspect", str(out / "door-2.img"), "--json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["door"] == "door-2" and info["os"] == "bookworm" and info["strict_gpiod"]
    files = {f["path"]: f for f in info["files"]}
    for name in ("gallery.key", "command.key", "mqtt.password"):
        f = files[f"/etc/facegate/{name}"]
        assert (f["mode"], f["uid"], f["gid"], f["secret"]) == ("0600", 0, 0, True)
    for secret in secrets_of(fleet_dir):
        assert secret not in done.stdout.encode()


def test_trixie_from_xz_with_its_own_python(trixie_xz, wheelhouses, fleet_dir, tmp_path):
    before = sha256(trixie_xz)
    refused = facegate(*build_args(fleet_dir, trixie_xz, tmp_path / "no", wheelhouses["3.11"]))
    assert refused.returncode != 0
    assert "CPython 3.13" in refused.stderr and "markupsafe" in refused.stderr.lower()
    assert not list((tmp_path / "no").glob("*.img*")), "nothing written for a bad wheelhouse"
    assert not (fleet_dir / "secrets").exists()
    out = tmp_path / "out"
    done = facegate(*build_args(fleet_dir, trixie_xz, out, wheelhouses["3.13"], "--door", "door-3"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["door-3.img"], "the unpacked base is removed"
    manifest = root_file(out / "door-3.img", "/etc/facegate/provision/manifest.json").decode()
    assert '"os": "trixie"' in manifest and '"python": "3.13"' in manifest
    wheels = root_file(out / "door-3.img", "/etc/facegate/provision/manifest.json")
    assert b"MarkupSafe" in wheels
    ok, report = fsck_clean(out / "door-3.img")
    assert ok, report
    assert sha256(trixie_xz) == before
    shutil.rmtree(out)
