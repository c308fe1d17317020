"""Every model file facegate loads, pinned by size and sha256.

A door must not run on a model that is missing, cut short by a failed copy or replaced: each
file is checked before it is loaded and a mismatch stops start-up with the reason. The pins of
third-party files hold for the package versions pinned in pyproject.toml.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from facegate.errors import ModelFileError


@dataclass(frozen=True)
class ModelFile:
    """A model file: where it comes from and what it must hash to."""

    name: str
    filename: str
    sha256: str
    size: int
    # Either a Python package that ships the file (found without importing it) or None for
    # files shipped with facegate itself (the package ``facegate.models``).
    package: str | None = None
    subdir: str = ""

    def locate(self, models_dir: Path | None = None) -> Path:
        """Where the file is: in ``models_dir`` when one is configured, else where the package
        that ships it is installed."""
        if self.package is None:
            return (models_dir or shipped_models_dir()) / self.filename
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelFileError(
                f"{self.name}: Python package {self.package!r} is not installed "
                f"(it ships {self.filename}); reinstall facegate's dependencies"
            )
        return Path(next(iter(spec.submodule_search_locations))) / self.subdir / self.filename


def shipped_models_dir() -> Path:
    """The installed ``facegate.models`` folder (the repository's models/ in a checkout)."""
    return Path(str(importlib.resources.files("facegate.models")))


# OpenCV's cascade, shipped with facegate: OpenCV 5 no longer ships the cascades.
HAAR_FRONTAL = ModelFile(
    "Haar frontal-face cascade",
    "haarcascade_frontalface_default.xml",
    "0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0",
    930127,
)
MTCNN_PNET = ModelFile(
    "MTCNN P-Net",
    "pnet.onnx",
    "07a69013008e612c4d2ad31b09645038911dfec67411cd68ccd0da55ca291a35",
    28829,
)
MTCNN_RNET = ModelFile(
    "MTCNN R-Net",
    "rnet.onnx",
    "de0f837f02b57e1e85959c3ae5c46bcd16162e6e95be5db8794e3c7c85a89004",
    403309,
)
MTCNN_ONET = ModelFile(
    "MTCNN O-Net",
    "onet.onnx",
    "d80f19b44f72e45dd2b7d01384d56994220f60d9417b2a7fbba9041ef1d75e52",
    1559570,
)
DLIB_LANDMARKS_68 = ModelFile(
    "dlib 68-point shape predictor",
    "shape_predictor_68_face_landmarks.dat",
    "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
    99693937,
    package="face_recognition_models",
    subdir="models",
)
DLIB_LANDMARKS_5 = ModelFile(
    "dlib 5-point shape predictor",
    "shape_predictor_5_face_landmarks.dat",
    "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
    9150489,
    package="face_recognition_models",
    subdir="models",
)
DLIB_RESNET = ModelFile(
    "dlib ResNet face recognition model",
    "dlib_face_recognition_resnet_model_v1.dat",
    "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    22466066,
    package="face_recognition_models",
    subdir="models",
)
FACENET_INT8 = ModelFile(
    "FaceNet int8 (LiteRT)",
    "facenet_int8.tflite",
    "8496a793b35b08dbcdd7ef29318e0a3bc761eeea983c4474f8aa9177ab333d64",
    24571656,
)
# Everything facegate loads at run time, for `facegate check-models` and the tests.
SHIPPED_MODELS = (
    HAAR_FRONTAL,
    MTCNN_PNET,
    MTCNN_RNET,
    MTCNN_ONET,
    DLIB_LANDMARKS_68,
    DLIB_LANDMARKS_5,
    DLIB_RESNET,
    FACENET_INT8,
)
# Built by models/build_facenet.py next to the int8 model for comparison; not shipped, so not
# pinned by hash: it is checked for presence and loadability only.
FACENET_FLOAT_FILENAME = "build/facenet_float32.tflite"

_verified: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(model: ModelFile, models_dir: Path | None = None) -> Path:
    """Return the checked path of ``model`` or raise :class:`ModelFileError` saying why not."""
    path = model.locate(models_dir)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ModelFileError(f"{model.name}: model file {path} is missing") from None
    if not path.is_file():
        raise ModelFileError(f"{model.name}: {path} is not a regular file")
    if stat.st_size != model.size:
        what = "truncated" if stat.st_size < model.size else "larger than expected"
        raise ModelFileError(
            f"{model.name}: model file {path} is {what} "
            f"({stat.st_size} bytes, expected {model.size})"
        )
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        actual = sha256_of(path)
        if actual != model.sha256:
            raise ModelFileError(
                f"{model.name}: model file {path} has sha256 {actual}, expected {model.sha256} "
                "(the file was altered or replaced; restore it from the release)"
            )
        _verified[key] = actual
    return path
