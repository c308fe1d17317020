"""Reading photos with errors that name the file and the problem."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from facegate.errors import ImageError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm"})
MAX_PIXELS = 50_000_000


def as_bgr(image: np.ndarray, source: str = "image") -> np.ndarray:
    """Accept grey, BGR or BGRA uint8 arrays and return contiguous 3-channel BGR."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ImageError(f"{source}: expected an 8-bit image array")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    raise ImageError(f"{source}: unsupported image shape {image.shape}")


def header_size(data: bytes, source: str = "image") -> tuple[int, int]:
    """(width, height) from the file's header, without decoding its pixels.

    A small file can claim a huge image (a 236 KB PNG of 9000x9000 pixels decodes to 243 MB):
    the size is checked here, before anything is decoded.
    """
    try:
        with Image.open(io.BytesIO(data)) as header:
            return header.size
    except (Image.UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageError(
            f"{source}: not a decodable image (JPEG, PNG, BMP, WebP or TIFF): {exc}"
        ) from None
    except Image.DecompressionBombError:
        raise ImageError(
            f"{source}: image is too large (its header claims more pixels than any photo)"
        ) from None


def decode_image(data: bytes, source: str = "image") -> np.ndarray:
    if not data:
        raise ImageError(f"{source}: empty file")
    width, height = header_size(data, source)
    if width * height > MAX_PIXELS:
        raise ImageError(f"{source}: image is too large ({width}x{height}), not decoded")
    buf = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageError(f"{source}: not a decodable image (JPEG, PNG, BMP, WebP or TIFF)")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    if image.shape[0] < 8 or image.shape[1] < 8:
        raise ImageError(f"{source}: image is too small ({image.shape[1]}x{image.shape[0]})")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise ImageError(f"{source}: image is too large ({image.shape[1]}x{image.shape[0]})")
    return as_bgr(image, source)


def load_image(path: Path) -> np.ndarray:
    """Read ``path`` as a BGR uint8 array or raise :class:`ImageError` saying why not."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{path}: file does not exist") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: is a directory, not an image") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot be read ({exc.strerror})") from None
    return decode_image(data, str(path))


def image_files(path: Path) -> list[Path]:
    """The image files in a directory (sorted, hidden files skipped), or the file itself."""
    path = Path(path)
    if path.is_dir():
        return sorted(
            p
            for p in path.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
        )
    return [path]
