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


def _png_claiming(width: int, height: int) -> bytes:
    """A valid, highly compressed grey PNG of ``width`` x ``height`` black pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress((b"\x00" * (width + 1)) * height, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_small_file_claiming_a_huge_image_is_refused_before_decoding(tmp_path) -> None:
    """78 KB of PNG that would decode to 81 megapixels: refused from its header, in a process
    whose peak memory stays far below what decoding it would take."""
    import subprocess
    import sys

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(9000, 9000))
    assert bomb.stat().st_size < 300_000
    code = (
        "import resource, sys\n"
        "from facegate.vision.image_io import load_image\n"
        "from facegate.errors import ImageError\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"try:\n    load_image(__import__('pathlib').Path({str(bomb)!r}))\n"
        "except ImageError as e:\n    print(e)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    message, grown_mb = done.stdout.strip().splitlines()
    assert "too large (9000x9000), not decoded" in message
    assert int(grown_mb) < 40  # decoding it would add 81 MB (grey) to 243 MB (colour)
