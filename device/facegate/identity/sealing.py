"""Encryption at rest for templates and secrets: AES-256-GCM with a key file.

Each sealed value is bound to its place (associated data such as the student id), so a row
copied onto another student fails to open instead of granting that student's access.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from facegate.common.key_files import KEY_BYTES

NONCE_BYTES = 12


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
