"""The gallery: enrolled students and their face templates in SQLite, sealed at rest.

Only embeddings are kept, never photos. Names and templates are encrypted with the key file
(AES-256-GCM, see :mod:`facegate.identity.sealing`); student ids stay in clear so that an
admin can list and remove students, and the roster can refer to them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from facegate.common.ids import STUDENT_ID_RULE, is_student_id
from facegate.common.key_files import create_key_file, read_key_file
from facegate.common.sqlite import open_store, transaction
from facegate.config import PathsConfig
from facegate.errors import GalleryError, KeyFileError
from facegate.identity.sealing import Sealer, SealError

SCHEMA_VERSION = 1
_KEY_CHECK = b"facegate gallery key check"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE students (
    student_id TEXT PRIMARY KEY,
    name BLOB NOT NULL,
    enrolled_at TEXT NOT NULL
);
CREATE TABLE templates (
    template_id INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id TEXT NOT NULL REFERENCES students(student_id) ON DELETE CASCADE,
    embedding BLOB NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX templates_by_student ON templates(student_id);
"""


@dataclass(frozen=True)
class StudentRecord:
    student_id: str
    name: str
    n_templates: int
    enrolled_at: str


# What a calibration's FAR means. Galleries calibrated before facegate 0.2 stored a threshold
# for a FAR per comparison (one face against one student), which lets far more strangers in at
# the size of a school than per probe; such a calibration is not used (see Recognizer).
CALIBRATION_RULE = "per-probe"


@dataclass(frozen=True)
class Calibration:
    """A threshold calibrated on this gallery for a target false-accept rate (per probe: a
    stranger against the whole gallery), with the margin it was calibrated for."""

    threshold: float
    target_far: float
    n_impostor: int
    n_genuine: int
    expected_frr: float | None
    calibrated_at: str
    margin: float = 0.0
    rule: str = "per-comparison"
    # The threshold holds for reference_size students and falls by slope per e-fold more.
    slope: float = 0.0
    reference_size: int = 1

    @property
    def current(self) -> bool:
        return self.rule == CALIBRATION_RULE


def validate_student_id(student_id: str) -> str:
    if not is_student_id(student_id):
        raise GalleryError(f"invalid student id {student_id!r}: {STUDENT_ID_RULE}")
    return student_id


def validate_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200 or not name.isprintable():
        raise GalleryError(f"invalid name {name!r}: 1-200 printable characters")
    return name


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _name_context(student_id: str) -> bytes:
    return b"name|" + student_id.encode()


def _template_context(student_id: str, embedder: str) -> bytes:
    return b"template|" + student_id.encode() + b"|" + embedder.encode()


class Gallery:
    """An open gallery. Use :meth:`open`; close it (or use ``with``) when done."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, sealer: Sealer, embedder: str, dim: int
    ) -> None:
        self._conn = conn
        self.path = path
        self._sealer = sealer
        self.embedder = embedder
        self.dim = dim

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path,
        key_path: Path,
        embedder: str | None = None,
        dim: int | None = None,
        create: bool = False,
    ) -> Gallery:
        """Open the gallery at ``path``.

        ``embedder``/``dim`` must match the gallery's (None accepts any, for listing).
        With ``create`` a missing gallery is made (and a key file, if there is none); an
        existing gallery is never opened with a new key.
        """
        path = Path(path)
        exists = path.exists()
        if not exists and not create:
            raise GalleryError(f"no gallery at {path}; enrol students first (facegate enroll)")
        if exists and not key_path.exists():
            raise KeyFileError(
                f"key file {key_path} is missing: the gallery {path} cannot be opened without "
                "the key it was sealed with (restore the key file; a new key cannot open it)"
            )
        if not exists:
            if embedder is None or dim is None:
                raise GalleryError("a new gallery needs the embedder name and dimension")
            if not key_path.exists():
                create_key_file(key_path)
        sealer = Sealer(read_key_file(key_path))
        if not exists:
            return cls._create(path, sealer, embedder, dim)  # type: ignore[arg-type]
        return cls._open_existing(path, key_path, sealer, embedder, dim)

    @classmethod
    def _create(cls, path: Path, sealer: Sealer, embedder: str, dim: int) -> Gallery:
        conn = open_store(path)
        try:
            with transaction(conn):
                for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                    conn.execute(statement)
                check = sealer.seal(_KEY_CHECK, b"key_check")
                conn.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [
                        ("schema_version", str(SCHEMA_VERSION)),
                        ("embedder", embedder),
                        ("dim", str(dim)),
                        ("key_check", check.hex()),
                        ("created_at", _now()),
                    ],
                )
        except BaseException:
            conn.close()
            path.unlink(missing_ok=True)
            raise
        return cls(conn, path, sealer, embedder, dim)

    @classmethod
    def _open_existing(
        cls, path: Path, key_path: Path, sealer: Sealer, embedder: str | None, dim: int | None
    ) -> Gallery:
        try:
            conn = open_store(path, create=False)
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise GalleryError(f"gallery {path} is damaged (sqlite quick_check: {ok})")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if not {"meta", "students", "templates"} <= tables:
                raise GalleryError(f"{path} is not a facegate gallery (tables missing)")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise GalleryError(
                f"{path} is not a facegate gallery or is damaged (sqlite: {exc})"
            ) from None
        if meta.get("schema_version") != str(SCHEMA_VERSION):
            raise GalleryError(
                f"gallery {path} has schema version {meta.get('schema_version')}, "
                f"this facegate reads version {SCHEMA_VERSION}"
            )
        try:
            sealer.open(bytes.fromhex(meta.get("key_check", "")), b"key_check")
        except (SealError, ValueError):
            raise KeyFileError(
                f"key file {key_path} does not open gallery {path} (it was sealed with another "
                "key, or its key check is damaged)"
            ) from None
        stored_embedder, stored_dim = meta.get("embedder", ""), int(meta.get("dim", "0"))
        if embedder is not None and embedder != stored_embedder:
            raise GalleryError(
                f"gallery {path} holds {stored_embedder} templates but the embedder is "
                f"{embedder}; set embedder.name = {stored_embedder!r} or enrol into a new gallery"
            )
        if dim is not None and dim != stored_dim:
            raise GalleryError(f"gallery {path} holds {stored_dim}-D templates, not {dim}-D")
        return cls(conn, path, sealer, stored_embedder, stored_dim)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Gallery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- students ----------------------------------------------------------------------------

    def add_student(self, student_id: str, name: str, embeddings: Iterable[np.ndarray]) -> int:
        """Add (or extend) a student with templates, all in one transaction."""
        return self.add_students([(student_id, name, embeddings)])

    def add_students(self, students: Iterable[tuple[str, str, Iterable[np.ndarray]]]) -> int:
        """Add (or extend) many students in one transaction (an import, a benchmark): all of
        them or, if any is invalid, none. Returns the number of templates stored."""
        now = _now()
        people, rows = [], []
        for student_id, name, embeddings in students:
            validate_student_id(student_id)
            name = validate_name(name)
            context = _template_context(student_id, self.embedder)
            sealed = []
            for e in embeddings:
                v = np.asarray(e, dtype="<f4").reshape(-1)
                if v.shape[0] != self.dim or not np.all(np.isfinite(v)):
                    raise GalleryError(
                        f"template for {student_id} is not a finite {self.dim}-D vector"
                    )
                sealed.append(self._sealer.seal(v.tobytes(), context))
            if not sealed:
                raise GalleryError(f"no templates to store for {student_id}")
            people.append(
                (student_id, self._sealer.seal(name.encode(), _name_context(student_id)), now)
            )
            rows += [(student_id, r, now) for r in sealed]
        with transaction(self._conn):
            self._conn.executemany(
                "INSERT INTO students(student_id, name, enrolled_at) VALUES (?, ?, ?) "
                "ON CONFLICT(student_id) DO UPDATE SET name = excluded.name",
                people,
            )
            self._conn.executemany(
                "INSERT INTO templates(student_id, embedding, added_at) VALUES (?, ?, ?)", rows
            )
        return len(rows)

    def remove(self, student_id: str) -> bool:
        with transaction(self._conn):
            cur = self._conn.execute("DELETE FROM students WHERE student_id = ?", (student_id,))
        return cur.rowcount > 0

    def students(self) -> list[StudentRecord]:
        rows = self._conn.execute(
            "SELECT s.student_id, s.name, s.enrolled_at, COUNT(t.template_id) "
            "FROM students s LEFT JOIN templates t USING (student_id) "
            "GROUP BY s.student_id ORDER BY s.student_id"
        ).fetchall()
        return [
            StudentRecord(sid, self._open_name(sid, sealed), n, enrolled)
            for sid, sealed, enrolled, n in rows
        ]

    def _open_name(self, student_id: str, sealed: bytes) -> str:
        try:
            return self._sealer.open(sealed, _name_context(student_id)).decode()
        except SealError:
            raise GalleryError(
                f"the name of student {student_id} fails its integrity check (altered or damaged)"
            ) from None

    def templates(self, candidates: Iterable[str] | None = None) -> tuple[list[str], np.ndarray]:
        """All templates (or those of ``candidates``) as labels and an (n, dim) matrix."""
        rows = self._conn.execute(
            "SELECT template_id, student_id, embedding FROM templates ORDER BY template_id"
        ).fetchall()
        wanted = None if candidates is None else set(candidates)
        labels: list[str] = []
        vectors: list[np.ndarray] = []
        for template_id, sid, sealed in rows:
            if wanted is not None and sid not in wanted:
                continue
            try:
                raw = self._sealer.open(sealed, _template_context(sid, self.embedder))
            except SealError:
                raise GalleryError(
                    f"template {template_id} of student {sid} fails its integrity check "
                    "(altered, moved between students, or damaged)"
                ) from None
            vectors.append(np.frombuffer(raw, dtype="<f4").astype(np.float32))
            labels.append(sid)
        matrix = np.vstack(vectors) if vectors else np.zeros((0, self.dim), np.float32)
        return labels, matrix

    # -- calibration -------------------------------------------------------------------------

    def calibration(self) -> Calibration | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'calibration'").fetchone()
        if row is None:
            return None
        try:
            return Calibration(**json.loads(row[0]))
        except (TypeError, ValueError):
            raise GalleryError(f"gallery {self.path}: stored calibration is damaged") from None

    def set_calibration(self, calibration: Calibration | None) -> None:
        with transaction(self._conn):
            if calibration is None:
                self._conn.execute("DELETE FROM meta WHERE key = 'calibration'")
            else:
                self._conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('calibration', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (json.dumps(calibration.__dict__),),
                )


def open_configured_gallery(
    paths: PathsConfig, embedder: str | None = None, dim: int | None = None, create: bool = False
) -> Gallery:
    """The gallery and key file named by the configuration."""
    return Gallery.open(paths.gallery_path(), paths.resolved_key_file(), embedder, dim, create)
