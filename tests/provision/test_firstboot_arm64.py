"""The first boot for real, on arm64 under qemu-user, with facegate's own wheelhouse and a
gallery of real people: a card built by ``facegate provision build`` (Bookworm: CPython 3.11,
Trixie: 3.13) is unpacked into a chroot of an arm64 Debian root (tests/provision/arm64_root.py)
and its first-boot script runs every step but ``apt``: the ``facegate`` user, the venv with
``--system-site-packages`` and the offline install of facegate and its 30-odd aarch64 wheels
(then ``check-models``), ``config.txt``, ``/etc/hosts``, the admin's SSH key, the config's
modes, the gallery import, and the units enabled (``systemctl`` offline, ``SYSTEMD_OFFLINE=1``:
``start`` is skipped, nothing runs as PID 1). Then, from the installed venv, as
facegate.service would run it (its ``LoadCredential=`` files in a credentials folder, its
``StateDirectory`` and ``ConfigurationDirectory``): ``facegate check-models``, ``facegate
check-config`` and ``facegate identify`` on an LFW photo of an enrolled person (named) and of
someone never enrolled (no one named).

Not run: the ``apt`` step, which installs ``python3-picamera2`` and ``python3-lgpio`` from the
image's apt cache: they are Raspberry Pi OS packages, not Debian's, and the root has no apt.
The door service itself is not started (no systemd as PID 1 in a chroot).

Minutes per release under emulation (docs/provisioning.md), so it runs under CI=true or
FACEGATE_EMULATION=1 and skips with that reason elsewhere. Correctness only, no timing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.provision.aarch64_wheelhouse import build_facegate_wheel, facegate_wheelhouse
from tests.provision.arm64_root import arm64_root, need_emulation
from tests.provision.card import facegate, fat_file, root_spec
from tests.provision.conftest import KEY
from tests.provision.enrolled_fleet import ENROLLED, STRANGER, enrolled_fleet, photo

pytestmark = pytest.mark.slow
AARCH64 = 183  # ELF e_machine
STEPS = "user venv config hosts ssh perms gallery service"  # all but apt
# What the first boot and the service read from the card (debugfs rdump, then merged).
CARD_FOLDERS = ["/etc/facegate", "/etc/systemd/system", "/etc/ssh/sshd_config.d",
                "/etc/NetworkManager/system-connections", "/usr/local/sbin", "/opt/facegate",
                "/var/lib/facegate-provision"]  # fmt: skip
CREDENTIALS = "/run/credentials/facegate.service"
VENV = "/opt/facegate/venv/bin"
KNOWN = ("s1001", 5)  # Ariel_Sharon_0005.jpg: enrolled from photos 1-3


def chroot(root: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """``args`` run in ``root`` with a clean environment. QEMU_CPU: the Pi 5's core; qemu's
    default ``max`` CPU emulates pointer authentication in software, which made Trixie's
    python3 (its glibc is built with PAC) about 15 times slower here."""
    return subprocess.run(
        ["chroot", str(root), "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
         "SYSTEMD_OFFLINE=1", "QEMU_CPU=cortex-a76", *args],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.fixture(scope="module")
def facegate_wheel(tmp_path_factory) -> Path:
    need_emulation()  # before the minute of building and enrolling, not after
    return build_facegate_wheel(tmp_path_factory.mktemp("facegate-wheel"))


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> Path:
    need_emulation()
    return enrolled_fleet(tmp_path_factory.mktemp("enrolled") / "fleet")


def unpack_card(card: Path, root: Path, staging: Path) -> None:
    """The card's own files into the root, as they lie on the card (owners and modes kept)."""
    for folder in CARD_FOLDERS:
        parent = staging / folder.rsplit("/", 1)[0].lstrip("/")
        parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["debugfs", "-R", f"rdump {folder} {parent}", root_spec(card)],
            check=True, capture_output=True,
        )  # fmt: skip
    for name in ("hostname", "hosts"):
        subprocess.run(
            ["debugfs", "-R", f"dump -p /etc/{name} {staging / 'etc' / name}", root_spec(card)],
            check=True, capture_output=True,
        )  # fmt: skip
    (staging / "boot/firmware").mkdir(parents=True)
    (staging / "boot/firmware/config.txt").write_bytes(fat_file(card, "config.txt"))
    subprocess.run(["cp", "-a", f"{staging}/.", str(root)], check=True)


def service_environment(root: Path) -> dict[str, str]:
    """What systemd gives facegate.service: each ``LoadCredential=NAME:PATH`` of the unit and
    its drop-ins copied to a private folder, and its state and configuration folders."""
    units = root / "etc/systemd/system"
    lines = [
        line.strip()
        for p in [units / "facegate.service", *sorted(units.glob("facegate.service.d/*.conf"))]
        for line in p.read_text().splitlines()
    ]
    directive = dict(line.split("=", 1) for line in lines if "=" in line and line[0] != "#")
    folder = root / CREDENTIALS.lstrip("/")
    folder.mkdir(parents=True, mode=0o700)
    for line in lines:
        if line.startswith("LoadCredential="):
            name, _, source = line.removeprefix("LoadCredential=").partition(":")
            shutil.copyfile(root / source.lstrip("/"), folder / name)
            (folder / name).chmod(0o400)
    names = {p.name for p in folder.iterdir()}
    assert {"gallery.key", "command.key", "mqtt.password"} <= names, names
    return {
        "CREDENTIALS_DIRECTORY": CREDENTIALS,
        "STATE_DIRECTORY": f"/var/lib/{directive['StateDirectory']}",
        "CONFIGURATION_DIRECTORY": f"/etc/{directive['ConfigurationDirectory']}",
    }


@pytest.mark.parametrize(("release", "python"), [("bookworm", "3.11"), ("trixie", "3.13")])
def test_first_boot_makes_a_door_that_identifies_on_arm64(
    release, python, tmp_path, facegate_wheel, fleet
):
    need_emulation()
    from tests.provision.pi_image import make_pi_image

    wheelhouse = facegate_wheelhouse(release, facegate_wheel, tmp_path / "wheelhouse")
    base = make_pi_image(tmp_path / f"{release}.img", release, size_mb=512)
    out = tmp_path / "out"
    args = ["provision", "build", str(fleet / "fleet.toml"), "--image", str(base)]
    args += ["--out", str(out), "--wheelhouse", str(wheelhouse), "--door", "door-3"]
    args += ["--gallery", str(fleet / "gallery.export"), "--roster", str(fleet / "roster.toml")]
    args += ["--gallery-passphrase-file", str(fleet / "passphrase")]
    done = facegate(*args)
    assert done.returncode == 0, done.stderr
    card = out / "door-3.img"
    base.unlink()
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", "--reflink=auto", str(arm64_root(release)), str(root)], check=True)
    unpack_card(card, root, tmp_path / "card")
    card.unlink()

    first = chroot(root, f"FACEGATE_STEPS={STEPS}", "/bin/sh", "/usr/local/sbin/facegate-firstboot")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for step in ("user", "venv", "ssh", "gallery"):
        assert f"step {step} done" in first.stdout
    assert "imported 3 student(s)" in first.stdout
    assert "finished: facegate.service enabled" in first.stdout
    stage = root / "var/lib/facegate-provision"
    assert (stage / "done").exists() and not (stage / "gallery.passphrase").exists()

    passwd = dict(line.split(":", 1) for line in (root / "etc/passwd").read_text().splitlines())
    assert passwd["facegate"].endswith(":/var/lib/facegate:/usr/sbin/nologin")
    assert passwd["admin"].endswith(":/home/admin:/bin/bash")
    groups = {g.split(":")[0]: g for g in (root / "etc/group").read_text().splitlines()}
    assert "facegate" in groups["video"] and "admin" in groups["sudo"]
    keys = root / "home/admin/.ssh/authorized_keys"
    assert keys.read_text().strip() == KEY
    uid = int(passwd["admin"].split(":")[1])
    assert (keys.stat().st_mode & 0o777, keys.stat().st_uid) == (0o600, uid)
    wants = root / "etc/systemd/system/multi-user.target.wants"
    assert (wants / "facegate.service").is_symlink() and (wants / "ssh.service").is_symlink()
    assert not (wants / "facegate-firstboot.service").exists()
    config_txt = (root / "boot/firmware/config.txt").read_text().splitlines()
    assert config_txt.count("dtparam=strict_gpiod") == 1
    assert "127.0.1.1\tdoor-hall" in (root / "etc/hosts").read_text().splitlines()
    fg_gid = int(groups["facegate"].split(":")[2])
    conf = (root / "etc/facegate/facegate.toml").stat()
    assert (conf.st_mode & 0o777, conf.st_uid, conf.st_gid) == (0o640, 0, fg_gid)
    gallery = (root / "var/lib/facegate/gallery.sqlite3").stat()
    assert gallery.st_uid == int(passwd["facegate"].split(":")[1])

    probe = chroot(root, f"{VENV}/python", "-c",
                   "import platform, sys, cv2; print(platform.machine(), sys.version_info[:2], "
                   "cv2.__file__)")  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.startswith(f"aarch64 ({python.replace('.', ', ')})")
    cv2_so = next((root / probe.stdout.split()[-1].lstrip("/")).parent.glob("cv2*.so"))
    assert int.from_bytes(cv2_so.read_bytes()[18:20], "little") == AARCH64

    env = [f"{k}={v}" for k, v in service_environment(root).items()]
    models = chroot(root, *env, f"{VENV}/facegate", "check-models", "--json")
    assert models.returncode == 0, models.stderr
    report = json.loads(models.stdout)
    assert report["ok"] and len(report["models"]) >= 1
    checked = chroot(root, *env, f"{VENV}/facegate", "check-config", "/etc/facegate/facegate.toml")
    assert checked.returncode == 0, checked.stderr
    assert "/etc/facegate/facegate.toml: valid" in checked.stderr
    assert "roster.toml: valid, 1 sessions" in checked.stderr
    settings = json.loads(checked.stdout)  # door-3: its id and its own camera override
    assert (settings["device"]["id"], settings["camera"]["width"]) == ("door-3", 1280)

    student, number = KNOWN
    probes = root / "tmp/probes"
    probes.mkdir(parents=True, exist_ok=True)
    shutil.copy(photo(ENROLLED[student], number), probes / "known.jpg")
    shutil.copy(photo(STRANGER, 1), probes / "stranger.jpg")
    photos = ["/tmp/probes/known.jpg", "/tmp/probes/stranger.jpg"]
    found = chroot(root, *env, f"{VENV}/facegate", "identify", "--json", *photos)
    assert found.returncode == 0, found.stderr[-3000:]
    rows = json.loads(found.stdout)
    known = [r for r in rows if r["photo"].endswith("known.jpg")]
    stranger = [r for r in rows if r["photo"].endswith("stranger.jpg")]
    assert [r["student_id"] for r in known if r.get("decision") == "match"] == [student], rows
    assert stranger and all(r.get("student_id") is None for r in stranger), rows
    assert all(r.get("decision") != "match" for r in stranger), rows

    again = chroot(root, f"FACEGATE_STEPS={STEPS}", "/bin/sh", "/usr/local/sbin/facegate-firstboot")
    assert again.returncode == 0, again.stderr
    assert "step" not in again.stdout, "a second run redid a step"
    shutil.rmtree(root)
