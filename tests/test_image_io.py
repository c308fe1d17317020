import cv2
import numpy as np
import pytest

from facegate.errors import ImageError
from facegate.vision.image_io import decode_image, image_files, load_image


def test_reads_colour_and_grey(tmp_path):
    grey = np.full((40, 50), 128, np.uint8)
    cv2.imwrite(str(tmp_path / "g.png"), grey)
    image = load_image(tmp_path / "g.png")
    assert image.shape == (40, 50, 3) and image.dtype == np.uint8


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("hello, not an image"), "not a decodable image"),
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50), "not a decodable image"),
        (lambda p: None, "does not exist"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: cv2.imwrite(str(p), np.zeros((4, 4, 3), np.uint8)), "too small"),
    ],
    ids=["text", "empty", "truncated-jpeg", "missing", "directory", "tiny"],
)
def test_bad_files_name_the_problem(tmp_path, make, message):
    path = tmp_path / "photo.png"
    make(path)
    with pytest.raises(ImageError, match=message) as err:
        load_image(path)
    assert str(path) in str(err.value)


def test_decode_rejects_garbage():
    with pytest.raises(ImageError, match="upload: not a decodable image"):
        decode_image(b"\x00" * 100, "upload")


def test_image_files_lists_images_only(tmp_path):
    for name in ("b.jpg", "a.PNG", ".hidden.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    assert [p.name for p in image_files(tmp_path)] == ["a.PNG", "b.jpg"]
    assert image_files(tmp_path / "b.jpg") == [tmp_path / "b.jpg"]
