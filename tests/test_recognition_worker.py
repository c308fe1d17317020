"""The attempt's recognition step on real photos and models: the whole-gallery check."""

import numpy as np
import pytest

from facegate.identity.attempt_frames import CandidateFrame
from facegate.identity.gallery import Gallery
from facegate.identity.recognition import RecognitionJob, recognise
from facegate.identity.recognizer import Recognizer


@pytest.fixture
def two_students(pipeline, demo_photos, settings):
    """astronaut (student A) and hopper (student B) enrolled from their portraits."""
    paths = settings.paths
    with Gallery.open(
        paths.gallery_path(), paths.resolved_key_file(), "facenet", 512, create=True
    ) as g:
        for sid, photo in (("A", "astronaut"), ("B", "hopper")):
            image = demo_photos[photo]
            face = pipeline.mtcnn.detect(image)[0]
            flipped = np.ascontiguousarray(image[:, ::-1])
            face2 = pipeline.mtcnn.detect(flipped)[0]
            g.add_student(
                sid,
                sid,
                [pipeline.embedder.embed(image, face), pipeline.embedder.embed(flipped, face2)],
            )
    return settings


def _recognizer(pipeline, settings, threshold: float) -> Recognizer:
    s = settings.model_copy(
        update={"matcher": settings.matcher.model_copy(update={"threshold": threshold})}
    )
    with Gallery.open(s.paths.gallery_path(), s.paths.resolved_key_file()) as g:
        return Recognizer(pipeline, g, s)


def _job(pipeline, image, roster) -> RecognitionJob:
    face = pipeline.mtcnn.detect(image)[0]
    return RecognitionJob("att-1", [CandidateFrame(1.0, 0.0, image, face.box)], roster)


def test_a_look_alike_on_the_roster_is_not_let_in(pipeline, demo_photos, two_students):
    """B stands at the door of A's exam. With a threshold so loose that B is within reach of
    A's centroid (a look-alike), a roster-only search would let B in as A; the whole gallery
    names B, so the answer is B (the flow then says not_on_roster), never A."""
    recognizer = _recognizer(pipeline, two_students, threshold=1.5)
    image = demo_photos["hopper"]
    probe = pipeline.embed(image, pipeline.mtcnn.detect(image)[0])
    assert recognizer.matcher.distances(probe)["A"] <= 1.5  # roster-only would accept "A"
    result = recognise(recognizer, _job(pipeline, image, ("A",)))
    assert result.student_id == "B" and result.reason == "match"
    assert result.distance is not None and result.distance < 0.2
    # On B's own exam, B is B; A at A's exam is A.
    assert recognise(recognizer, _job(pipeline, image, ("B",))).student_id == "B"
    own = recognise(recognizer, _job(pipeline, demo_photos["astronaut"], ("A",)))
    assert own.student_id == "A"


def test_a_stranger_is_unknown_with_or_without_a_roster(pipeline, demo_photos, two_students):
    recognizer = _recognizer(pipeline, two_students, threshold=0.35)
    for roster in (("A",), ("A", "B"), None):
        result = recognise(recognizer, _job(pipeline, demo_photos["cameraman"], roster))
        assert result.student_id is None and result.reason == "unknown_face"
