"""Key files: 32 random bytes, base64 behind a header, readable by their owner only.

Standard library only: the door's command checker and the gallery both read keys, and
reading one must not pull in numpy or the crypto library.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from facegate.errors import KeyFileError

KEY_BYTES = 32
_HEADER = "facegate-key-v1"


def create_key_file(path: Path) -> None:
    """Write a new random key readable by its owner only; never overwrite an existing key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    encoded = base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{_HEADER} {encoded}\n")
        fh.flush()
        os.fsync(fh.fileno())


def _is_credential(path: Path) -> bool:
    """A file systemd handed over with ``LoadCredential=``: its directory is private to the
    service, and systemd 255+ grants the service user an ACL that ``stat`` shows as group
    bits (0440), which is not other users' access."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return False
    try:
        return path.resolve().parent == Path(directory).resolve()
    except OSError:
        return False


def read_key_file(path: Path) -> bytes:
    """Read a key file, refusing one that other users could read or change."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist") from None
    except PermissionError:
        raise KeyFileError(
            f"key file {path} cannot be read by this user (pass it as a systemd credential, "
            "LoadCredential=, or run as its owner)"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"key file {path} is not a regular file")
    if info.st_mode & 0o077 and not _is_credential(path):
        raise KeyFileError(
            f"key file {path} is accessible to other users (mode {stat.S_IMODE(info.st_mode):04o});"
            f" run: chmod 600 {path}"
        )
    try:
        text = path.read_text("ascii").strip()
    except PermissionError:
        raise KeyFileError(
            f"key file {path} cannot be read by this user (pass it as a systemd credential, "
            "LoadCredential=, or run as its owner)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"key file {path} cannot be read: {exc}") from None
    header, _, encoded = text.partition(" ")
    if header != _HEADER:
        raise KeyFileError(f"key file {path} is not a facegate key (missing '{_HEADER}' header)")
    try:
        key = base64.urlsafe_b64decode(encoded.encode("ascii"))
    except (binascii.Error, ValueError):
        raise KeyFileError(f"key file {path} is damaged (not base64)") from None
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"key file {path} is damaged ({len(key)} bytes, expected {KEY_BYTES})")
    return key
