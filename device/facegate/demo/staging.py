"""A door staged for the demo, the attack evaluations and the tests: Eileen Collins enrolled
from her portrait (five seeded variants), given a TOTP secret, on an exam session open now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from facegate.config import Settings
from facegate.demo import material
from facegate.demo.roster_file import session_toml
from facegate.identity.enrolment import Enroller
from facegate.identity.gallery import open_configured_gallery
from facegate.identity.second_factor import SecondFactorStore
from facegate.vision.pipeline import FacePipeline
from facegate.vision.quality import QualityGate

STUDENT = material.ASTRONAUT.student_id


@dataclass(frozen=True)
class Staged:
    templates: int
    secret: str


def write_session(
    path: Path, session: str, room: str, students: list[str], second_factor: bool
) -> Path:
    """One session in ``room``, open from 30 minutes ago for two hours."""
    now = datetime.now(UTC)
    start, end = now - timedelta(minutes=30), now + timedelta(hours=2)
    path.write_text(session_toml(session, room, start, end, students, second_factor))
    return path


def enrol_collins(settings: Settings, pipeline: FacePipeline, work: Path) -> Staged:
    """Enrol Collins into ``settings``' data directory and give her a TOTP secret."""
    collins = material.load_photo(material.ASTRONAUT)
    with open_configured_gallery(
        settings.paths, pipeline.embedder.name, pipeline.embedder.dim, create=True
    ) as gallery:
        outcome = Enroller(pipeline, QualityGate(settings.quality)).enroll_images(
            gallery, STUDENT, material.ASTRONAUT.name, material.variants(collins, 5, 10), work
        )
    with SecondFactorStore.open(
        settings.paths.second_factor_path(), settings.paths.resolved_key_file(), create=True
    ) as store:
        secret = store.enroll(STUDENT)
    return Staged(outcome.stored, secret)
