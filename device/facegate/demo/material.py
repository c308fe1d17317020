"""Demo photos from installed packages and seeded variants of them.

- scikit-image's ``astronaut.png``: Eileen Collins, NASA portrait (public domain);
- matplotlib's ``grace_hopper.jpg``: Grace Hopper, US Navy portrait (public domain);
- scikit-image's ``camera.png``: the cameraman, a person facegate has never enrolled.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facegate.errors import FacegateError
from facegate.vision.image_io import load_image


@dataclass(frozen=True)
class DemoPerson:
    student_id: str
    name: str
    package: str
    relative: str


ASTRONAUT = DemoPerson("nasa-collins", "Eileen Collins", "skimage", "data/astronaut.png")
HOPPER = DemoPerson(
    "navy-hopper", "Grace Hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg"
)
CAMERAMAN = DemoPerson("cameraman", "the cameraman (never enrolled)", "skimage", "data/camera.png")


def photo_path(person: DemoPerson) -> Path:
    spec = importlib.util.find_spec(person.package)
    if spec is None or not spec.submodule_search_locations:
        raise FacegateError(
            f"the demo needs the {person.package} package for {person.relative}: "
            "pip install 'facegate[demo]' (make demo does this)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / person.relative
    if not path.is_file():
        raise FacegateError(f"demo photo {path} is missing from the {person.package} package")
    return path


def load_photo(person: DemoPerson) -> np.ndarray:
    return load_image(photo_path(person))


def variant(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible second shot of the same scene: pose, light, noise and compression change."""
    h, w = image.shape[:2]
    angle = rng.uniform(-6, 6)
    scale = rng.uniform(0.92, 1.08)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += rng.uniform(-0.04, 0.04, size=2) * (w, h)
    out = cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    gain, bias, gamma = rng.uniform(0.8, 1.2), rng.uniform(-20, 20), rng.uniform(0.8, 1.25)
    x = np.clip(out.astype(np.float32) * gain + bias, 0, 255) / 255.0
    x = 255.0 * np.power(x, gamma) + rng.normal(0, rng.uniform(0, 6), x.shape)
    out = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 0.9))
    quality = int(rng.integers(60, 95))
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else out


def variants(image: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [variant(image, rng) for _ in range(n)]


def blurred(image: np.ndarray) -> np.ndarray:
    """Badly out of focus: the quality gate must refuse it."""
    return cv2.GaussianBlur(image, (0, 0), 6)


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Two people in one photo: the quality gate must refuse it."""
    h = min(left.shape[0], right.shape[0])
    resize = [cv2.resize(im, (round(im.shape[1] * h / im.shape[0]), h)) for im in (left, right)]
    return np.hstack(resize)
