"""Enrolment through the quality gate into the encrypted gallery."""

import cv2
import pytest

from facegate.config import QualityConfig
from facegate.demo.material import blurred, side_by_side, variants
from facegate.identity.enrolment import Enroller, expand_photos, students_in
from facegate.identity.gallery import Gallery
from facegate.identity.matcher import Matcher
from facegate.identity.thresholds import shipped_rule
from facegate.vision.quality import QualityGate

from .conftest import shared


@pytest.fixture
def gallery(tmp_path, pipeline):
    g = Gallery.open(
        tmp_path / "g.sqlite3", tmp_path / "g.key", "facenet", pipeline.embedder.dim, create=True
    )
    yield g
    g.close()


def write(folder, name, image):
    path = folder / name
    cv2.imwrite(str(path), image)
    return path


def test_refused_photos_have_reasons_and_the_rest_is_enrolled(
    tmp_path, pipeline, gallery, demo_photos
):
    photos = [
        write(tmp_path, f"ok{i}.jpg", im)
        for i, im in enumerate(variants(demo_photos["hopper"], 3, 1))
    ]
    photos.append(write(tmp_path, "blur.jpg", blurred(demo_photos["hopper"])))
    photos.append(
        write(tmp_path, "two.jpg", side_by_side(demo_photos["hopper"], demo_photos["astronaut"]))
    )
    photos.append(write(tmp_path, "blank.jpg", demo_photos["hopper"][:40, :40]))
    (tmp_path / "broken.jpg").write_text("not an image")
    photos.append(tmp_path / "broken.jpg")
    enroller = Enroller(pipeline, QualityGate(QualityConfig()))
    outcome = enroller.enroll(gallery, "navy-hopper", "Grace Hopper", photos)
    codes = {p.path.name: p.code for p in outcome.photos}
    assert codes == {
        "ok0.jpg": "ok",
        "ok1.jpg": "ok",
        "ok2.jpg": "ok",
        "blur.jpg": "blurry",
        "two.jpg": "several_faces",
        "blank.jpg": "no_face",
        "broken.jpg": "unreadable",
    }
    assert outcome.stored == 3 and outcome.error is None
    assert gallery.students()[0].n_templates == 3


def test_nothing_is_stored_when_every_photo_is_refused(tmp_path, pipeline, gallery, demo_photos):
    photos = [write(tmp_path, "blur.jpg", blurred(demo_photos["hopper"]))]
    outcome = Enroller(pipeline, QualityGate(QualityConfig())).enroll(gallery, "x1", "X", photos)
    assert outcome.stored == 0 and "nothing was stored" in outcome.error
    assert gallery.students() == []


def test_invalid_id_is_refused_before_any_work(pipeline, gallery):
    outcome = Enroller(pipeline, QualityGate(QualityConfig())).enroll(gallery, "a b", "X", [])
    assert "invalid student id" in outcome.error and outcome.photos == []


def test_expand_photos_keeps_order_without_repeats(tmp_path):
    (tmp_path / "d").mkdir()
    for name in ("b.jpg", "a.jpg"):
        (tmp_path / "d" / name).write_bytes(b"x")
    got = expand_photos([tmp_path / "d" / "b.jpg", tmp_path / "d"])
    assert [p.name for p in got] == ["b.jpg", "a.jpg"]


@pytest.mark.data
def test_enrol_lfw10_from_dir_and_identify_held_out_photos(pipeline, gallery):
    """The paper's layout: one folder per student. Two photos per person are held out."""
    root = shared("identities", "lfw10")
    enroller = Enroller(pipeline, QualityGate(QualityConfig()))
    held_out = {}
    for sid, name, photos in students_in(root):
        held_out[sid] = photos[-2:]
        outcome = enroller.enroll(gallery, sid, name, photos[:-2])
        assert outcome.stored >= 4, (sid, [(p.path.name, p.message) for p in outcome.refused])
        for refused in outcome.refused:
            assert refused.code in {"several_faces", "not_frontal", "eyes_closed", "blurry"}
    labels, vectors = gallery.templates()
    matcher = Matcher(labels, vectors, shipped_rule("facenet"))
    from facegate.vision.detection import main_face
    from facegate.vision.image_io import load_image

    right = 0
    for sid, photos in held_out.items():
        for path in photos:
            image = load_image(path)
            face = main_face(pipeline.mtcnn.detect(image), image.shape[1], image.shape[0])
            right += matcher.identify(pipeline.embedder.embed(image, face)).student_id == sid
    assert right >= 18  # of 20 held-out photos

    # Strangers: faces94's unenrolled probes are rejected as unknown.
    unknown_dir = shared("identities", "faces94", "_unenrolled_test")
    for path in sorted(unknown_dir.iterdir()):
        image = load_image(path)
        face = main_face(pipeline.mtcnn.detect(image), image.shape[1], image.shape[0])
        assert not matcher.identify(pipeline.embedder.embed(image, face)).accepted, path.name
