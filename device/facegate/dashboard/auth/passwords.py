"""argon2id password hashes (argon2-cffi), computed off the event loop.

A hash costs about 64 MiB and tens of milliseconds by design; it runs in a worker thread
so the live pages keep streaming, and at most two run at once so a burst of logins cannot
take the server's memory.
"""

from __future__ import annotations

import asyncio
import functools
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile defaults
_slots = threading.BoundedSemaphore(2)  # held in the worker thread, not on the loop


@functools.cache
def _dummy() -> str:
    """Verified against when the user does not exist, so both cases take the same time."""
    return _hasher.hash("facegate-no-such-user")


def password_problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > 1024:
        return "a password may have at most 1024 characters"
    return None


def _hash(password: str) -> str:
    with _slots:
        return _hasher.hash(password)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hash, password)


def _verify(stored: str | None, password: str) -> bool:
    with _slots:
        try:
            return _hasher.verify(stored or _dummy(), password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


async def verify_password(stored: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, stored, password)
