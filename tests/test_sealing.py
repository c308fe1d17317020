import os
import stat

import pytest

from facegate.common.key_files import create_key_file, read_key_file
from facegate.errors import KeyFileError
from facegate.identity.sealing import Sealer, SealError


def test_seal_round_trip_and_context_binding():
    sealer = Sealer(os.urandom(32))
    sealed = sealer.seal(b"template bytes", b"template|s1")
    assert b"template bytes" not in sealed
    assert sealer.open(sealed, b"template|s1") == b"template bytes"
    with pytest.raises(SealError):
        sealer.open(sealed, b"template|s2")
    with pytest.raises(SealError):
        Sealer(os.urandom(32)).open(sealed, b"template|s1")
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(SealError):
        sealer.open(bytes(tampered), b"template|s1")


def test_key_file_is_private_and_never_overwritten(tmp_path):
    path = tmp_path / "keys" / "gallery.key"
    create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = read_key_file(path)
    assert len(key) == 32
    with pytest.raises(KeyFileError, match="already exists"):
        create_key_file(path)
    assert read_key_file(path) == key


def test_key_file_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "gallery.key"
    create_key_file(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        read_key_file(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("hello", "not a facegate key"),
        ("facegate-key-v1 !!!notbase64", "damaged"),
        ("facegate-key-v1 AAAA", "damaged"),
    ],
)
def test_damaged_key_files(tmp_path, content, message):
    path = tmp_path / "gallery.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match=message):
        read_key_file(path)


def test_missing_key_file(tmp_path):
    with pytest.raises(KeyFileError, match="does not exist"):
        read_key_file(tmp_path / "none.key")
