"""A fleet folder whose gallery holds real people: three LFW identities from
../shared/data/identities/lfw10, enrolled on the host with ``facegate enroll`` (MTCNN, the
quality gate, FaceNet) and exported with ``facegate gallery export``, as an admin would.

Photos 1-3 of each person are enrolled; the emulated test identifies a later photo of one of
them and a photo of someone never enrolled.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import shared
from tests.provision.conftest import PASSPHRASE, write_fleet

# The roster of tests/provision/conftest.py lets s1001 and s1002 in.
ENROLLED = {"s1001": "Ariel_Sharon", "s1002": "Colin_Powell", "s1003": "Tony_Blair"}
STRANGER = "George_W_Bush"


def photo(person: str, number: int) -> Path:
    return shared("identities", "lfw10", person, f"{person}_{number:04d}.jpg")


def _facegate(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "facegate", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, f"facegate {' '.join(args[:2])}: {done.stderr[-1500:]}"
    return done.stdout


def enrolled_fleet(folder: Path) -> Path:
    """``folder`` with fleet.toml, ca.crt, roster.toml, gallery.export and passphrase."""
    write_fleet(folder)
    admin = folder / "admin-data"
    env = {
        k: v for k, v in os.environ.items() if k not in ("STATE_DIRECTORY", "CREDENTIALS_DIRECTORY")
    }
    env.update(XDG_DATA_HOME=str(admin), FACEGATE_EXPORT_PASSPHRASE=PASSPHRASE)
    for student, person in ENROLLED.items():
        photos = [str(photo(person, n)) for n in (1, 2, 3)]
        name = person.replace("_", " ")
        out = _facegate(env, "enroll", "--id", student, "--name", name, *photos)
        assert f"{student}: enrolled" in out, out
    out = _facegate(env, "gallery", "export", str(folder / "gallery.export"))
    assert f"exported {len(ENROLLED)} student(s)" in out, out
    shutil.rmtree(admin)
    (folder / "passphrase").write_text(PASSPHRASE + "\n")
    return folder
