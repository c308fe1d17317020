"""Files only their owner may read, created new: never through a link, never widening a mode.

Everything facegate writes that holds personal data or secrets (databases, key files, the QR
code of a TOTP secret, attendance exports) is created here: ``O_EXCL`` so that an existing
file (or a symlink planted where it will be written) is refused rather than followed or
reused with its old, wider mode.
"""

from __future__ import annotations

import os
from pathlib import Path


def create_private_file(path: Path) -> None:
    """Create an empty file only its owner can read, in a folder only its owner can enter;
    an existing file (or a link) is never overwritten (FileExistsError)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))


def write_private_file(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write ``data`` to a new owner-only file (0600), fsynced.

    An existing regular file is refused unless ``replace``; then it is replaced atomically by
    a new file (so its old mode and owner do not carry over). A symlink is always refused.
    """
    if path.is_symlink():
        raise FileExistsError(f"{path} is a symbolic link; refusing to write through it")
    if path.exists() and not replace:
        raise FileExistsError(f"{path} already exists; refusing to overwrite it")
    target = path.with_name(f".{path.name}.{os.getpid()}.tmp") if replace else path
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(target, path)
    except BaseException:
        if replace:
            target.unlink(missing_ok=True)
        raise
