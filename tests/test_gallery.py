"""The encrypted gallery: bad input and damage give clear errors and change nothing."""

import shutil
import sqlite3

import numpy as np
import pytest

from facegate.errors import GalleryError, KeyFileError
from facegate.identity.gallery import Calibration, Gallery

DIM = 8


def vec(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def paths(tmp_path):
    return tmp_path / "data" / "gallery.sqlite3", tmp_path / "data" / "gallery.key"


def make(paths) -> Gallery:
    db, key = paths
    return Gallery.open(db, key, "facenet", DIM, create=True)


def test_create_add_list_reopen_remove(paths):
    db, key = paths
    with make(paths) as g:
        assert g.add_student("s1", "Ada Lovelace", [vec(1), vec(2)]) == 2
        g.add_student("s2", "Alan Turing", [vec(3)])
        g.add_student("s1", "Ada King", [vec(4)])
    assert oct(db.stat().st_mode & 0o777) == oct(0o600)
    with Gallery.open(db, key) as g:
        students = {s.student_id: s for s in g.students()}
        assert students["s1"].name == "Ada King" and students["s1"].n_templates == 3
        assert students["s2"].n_templates == 1
        labels, matrix = g.templates()
        assert labels.count("s1") == 3 and matrix.shape == (4, DIM)
        np.testing.assert_allclose(matrix[0], vec(1))
        assert g.templates(["s2"])[0] == ["s2"]
        assert g.remove("s1") and not g.remove("s1")
        assert [s.student_id for s in g.students()] == ["s2"]
        assert g.templates()[1].shape == (1, DIM)


def test_names_and_templates_are_not_stored_in_clear(paths):
    db, _ = paths
    with make(paths) as g:
        g.add_student("s1", "Very Secret Name", [vec(1)])
    raw = db.read_bytes()
    assert b"Very Secret Name" not in raw
    assert vec(1).astype("<f4").tobytes() not in raw


def test_wrong_key_is_refused_and_changes_nothing(paths, tmp_path):
    db, _ = paths
    with make(paths) as g:
        g.add_student("s1", "Ada", [vec(1)])
    before = db.read_bytes()
    other = tmp_path / "other.key"
    Gallery.open(tmp_path / "other.sqlite3", other, "facenet", DIM, create=True).close()
    with pytest.raises(KeyFileError, match="does not open gallery"):
        Gallery.open(db, other)
    assert db.read_bytes() == before


def test_missing_key_for_an_existing_gallery_is_never_replaced(paths):
    db, key = paths
    make(paths).close()
    key.unlink()
    with pytest.raises(KeyFileError, match="cannot be opened without"):
        Gallery.open(db, key, "facenet", DIM, create=True)
    assert not key.exists()


def test_missing_gallery_is_not_created_by_readers(paths):
    db, key = paths
    with pytest.raises(GalleryError, match="enrol students first"):
        Gallery.open(db, key)
    assert not db.exists() and not key.exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"this is not a database at all" * 100),
        lambda p: p.write_bytes(p.read_bytes()[:1024]),
    ],
    ids=["garbage", "truncated"],
)
def test_damaged_database_gives_a_clear_error(paths, damage):
    db, key = paths
    with make(paths) as g:
        g.add_student("s1", "Ada", [vec(i) for i in range(50)])
    damage(db)
    before = db.read_bytes()
    with (
        pytest.raises(GalleryError, match=r"not a facegate gallery|damaged"),
        Gallery.open(db, key) as g,
    ):
        g.templates()
    assert db.read_bytes() == before


def test_foreign_sqlite_database(paths):
    db, key = paths
    make(paths).close()
    other = db.with_name("other.sqlite3")
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.close()
    with pytest.raises(GalleryError, match="not a facegate gallery"):
        Gallery.open(other, key)


def test_template_moved_between_students_fails_integrity(paths):
    db, key = paths
    with make(paths) as g:
        g.add_student("s1", "Ada", [vec(1)])
        g.add_student("s2", "Alan", [vec(2)])
    conn = sqlite3.connect(db)
    blob = conn.execute("SELECT embedding FROM templates WHERE student_id='s1'").fetchone()[0]
    conn.execute("UPDATE templates SET embedding=? WHERE student_id='s2'", (blob,))
    conn.commit()
    conn.close()
    with Gallery.open(db, key) as g, pytest.raises(GalleryError, match="integrity check"):
        g.templates()


def test_embedder_mismatch_is_explained(paths):
    db, key = paths
    make(paths).close()
    with pytest.raises(GalleryError, match="holds facenet templates but the embedder is dlib"):
        Gallery.open(db, key, "dlib", 128)


@pytest.mark.parametrize(
    ("sid", "name", "vectors", "message"),
    [
        ("bad id!", "Ada", [vec(1)], "invalid student id"),
        ("", "Ada", [vec(1)], "invalid student id"),
        ("s1", "", [vec(1)], "invalid name"),
        ("s1", "Ada", [], "no templates"),
        ("s1", "Ada", [np.full(DIM, np.nan)], "not a finite"),
        ("s1", "Ada", [vec(1), np.ones(DIM + 1)], "not a finite"),
    ],
)
def test_bad_enrolment_input_changes_nothing(paths, sid, name, vectors, message):
    with make(paths) as g:
        g.add_student("s0", "Existing", [vec(9)])
        with pytest.raises(GalleryError, match=message):
            g.add_student(sid, name, vectors)
        assert [s.student_id for s in g.students()] == ["s0"]
        assert g.templates()[1].shape == (1, DIM)


def test_calibration_is_stored(paths):
    db, key = paths
    with make(paths) as g:
        assert g.calibration() is None
        c = Calibration(0.3, 0.01, 100, 20, 0.05, "2026-01-01T00:00:00+00:00")
        g.set_calibration(c)
    with Gallery.open(db, key) as g:
        assert g.calibration() == c
        g.set_calibration(None)
        assert g.calibration() is None


def test_backup_copy_opens_with_the_same_key(paths, tmp_path):
    db, key = paths
    with make(paths) as g:
        g.add_student("s1", "Ada", [vec(1)])
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(db, copy)
    with Gallery.open(copy, key) as g:
        assert g.students()[0].name == "Ada"


@pytest.mark.parametrize(
    ("kdf", "named"),
    [
        ({"n": 2**30, "r": 8, "p": 1}, "scrypt n=1073741824 is outside"),
        ({"n": 2**15, "r": 4096, "p": 1}, "scrypt r=4096 is outside"),
        ({"n": 2**15, "r": 8, "p": 64}, "scrypt p=64 is outside"),
        ({"n": 30000, "r": 8, "p": 1}, "not a power of two"),
        ({"n": "32768", "r": 8, "p": 1}, "scrypt n='32768' is outside"),
    ],
)
def test_an_import_refuses_scrypt_costs_it_did_not_choose(tmp_path, kdf, named) -> None:
    """An altered export must not make the importer spend gigabytes before the passphrase is
    checked: its scrypt parameters are bounded, and refused at once."""
    import json as _json
    import time

    from facegate.identity.transfer import FORMAT, read_bundle

    bundle = tmp_path / "altered.fgx"
    bundle.write_text(
        _json.dumps(
            {
                "format": FORMAT,
                "kdf": {"name": "scrypt", "salt": "00" * 16, **kdf},
                "nonce": "00" * 12,
                "ciphertext": "AAAA",
            }
        )
    )
    started = time.process_time()
    with pytest.raises(GalleryError, match=named):
        read_bundle(bundle, "correct horse battery staple")
    assert time.process_time() - started < 1.0  # refused before any key derivation
