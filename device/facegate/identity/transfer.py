"""Gallery export and import as one passphrase-encrypted file.

For backups and for copying enrolments to other doors: templates never leave the device in
clear. The bundle is JSON holding scrypt parameters, a nonce and the AES-256-GCM ciphertext
of the students, their names and templates.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from facegate.errors import GalleryError
from facegate.identity.gallery import Gallery

FORMAT = "facegate-gallery-export-v1"
# 2^17 x 8 x 128 B = 128 MiB and about half a second per guess: an offline guesser pays that.
_SCRYPT = {"n": 2**17, "r": 8, "p": 1}
# What an import accepts: a bundle sets its own cost, and an altered one must not make the
# door (or an admin's laptop) spend gigabytes or minutes before the passphrase is even checked.
_N_RANGE = (2**14, 2**18)
_R_RANGE = (1, 16)
_P_RANGE = (1, 4)
MAX_BUNDLE_BYTES = 256 * 1024 * 1024
MIN_PASSPHRASE = 12


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def _kdf_params(kdf: object, path: Path) -> tuple[bytes, int, int, int]:
    """The bundle's scrypt salt and parameters, refused outside sane bounds."""
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise GalleryError(f"{path}: unknown key derivation (expected scrypt)")
    n, r, p = kdf.get("n"), kdf.get("r"), kdf.get("p")
    for name, value, (low, high) in (("n", n, _N_RANGE), ("r", r, _R_RANGE), ("p", p, _P_RANGE)):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise GalleryError(
                f"{path}: scrypt {name}={value!r} is outside {low}..{high}; refusing to spend "
                "memory and time on an altered export"
            )
    if n & (n - 1):
        raise GalleryError(f"{path}: scrypt n={n} is not a power of two")
    salt = bytes.fromhex(kdf.get("salt", ""))
    if not 16 <= len(salt) <= 64:
        raise GalleryError(f"{path}: scrypt salt of {len(salt)} bytes")
    return salt, n, r, p


def export_gallery(gallery: Gallery, out: Path, passphrase: str) -> int:
    """Write every student to ``out``; return how many. Refuses to overwrite a file."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise GalleryError(f"export passphrase must have at least {MIN_PASSPHRASE} characters")
    labels, matrix = gallery.templates()
    students = []
    for record in gallery.students():
        vectors = matrix[[i for i, sid in enumerate(labels) if sid == record.student_id]]
        students.append(
            {
                "id": record.student_id,
                "name": record.name,
                "templates": [
                    base64.b64encode(v.astype("<f4").tobytes()).decode() for v in vectors
                ],
            }
        )
    payload = json.dumps(
        {"embedder": gallery.embedder, "dim": gallery.dim, "students": students}
    ).encode()
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_key(passphrase, salt, **_SCRYPT)).encrypt(nonce, payload, FORMAT.encode())
    bundle = {
        "format": FORMAT,
        "kdf": {"name": "scrypt", "salt": salt.hex(), **_SCRYPT},
        "nonce": nonce.hex(),
        "ciphertext": base64.b64encode(sealed).decode(),
    }
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise GalleryError(f"{out} already exists; choose another file name") from None
    with os.fdopen(fd, "w") as fh:
        json.dump(bundle, fh)
    return len(students)


def read_bundle(path: Path, passphrase: str) -> dict:
    """Decrypt and check an export; raises :class:`GalleryError` naming the problem."""
    try:
        size = Path(path).stat().st_size
        if size > MAX_BUNDLE_BYTES:
            raise GalleryError(f"{path} is {size} bytes: too large for a gallery export")
        bundle = json.loads(Path(path).read_text())
        if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
            raise GalleryError(f"{path} is not a facegate gallery export")
        key = _key(passphrase, *_kdf_params(bundle.get("kdf"), path))
        payload = AESGCM(key).decrypt(
            bytes.fromhex(bundle["nonce"]), base64.b64decode(bundle["ciphertext"]), FORMAT.encode()
        )
    except FileNotFoundError:
        raise GalleryError(f"export file {path} does not exist") from None
    except InvalidTag:
        raise GalleryError(f"wrong passphrase for {path}, or the file was altered") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise GalleryError(f"{path} is a damaged gallery export") from None
    return json.loads(payload)


def import_students(gallery: Gallery, data: dict) -> int:
    """Add every student of a decrypted export (:func:`read_bundle`); all or nothing per
    student."""
    if data.get("embedder") != gallery.embedder or data.get("dim") != gallery.dim:
        raise GalleryError(
            f"the export holds {data.get('embedder')} templates; "
            f"this gallery holds {gallery.embedder}"
        )
    count = 0
    for student in data["students"]:
        vectors = [np.frombuffer(base64.b64decode(t), dtype="<f4") for t in student["templates"]]
        gallery.add_student(student["id"], student["name"], vectors)
        count += 1
    return count
