"""Encryption at rest for templates and secrets: AES-256-GCM with a key file.

Each sealed value is bound to its place (associated data such as the student id), so a row
copied onto another student fails to open instead of granting that student's access.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from facegate.errors import KeyFileError

KEY_BYTES = 32
NONCE_BYTES = 12
_HEADER = "facegate-key-v1"


class SealError(Exception):
    """A sealed value failed authentication: wrong key, or altered data."""


class Sealer:
    """Seals and opens small values with one AES-256-GCM key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        if len(sealed) < NONCE_BYTES + 16:
            raise SealError("sealed value is too short")
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)
        except InvalidTag:
            raise SealError("authentication failed") from None


def create_key_file(path: Path) -> None:
    """Write a new random key readable by its owner only; never overwrite an existing key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    encoded = base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{_HEADER} {encoded}\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_key_file(path: Path) -> bytes:
    """Read a key file, refusing one that other users could read or change."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"key file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise KeyFileError(
            f"key file {path} is accessible to other users (mode {stat.S_IMODE(info.st_mode):04o});"
            f" run: chmod 600 {path}"
        )
    try:
        text = path.read_text("ascii").strip()
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
