"""Choose an embedder by name, with its model file checked."""

from __future__ import annotations

from pathlib import Path

from facegate.errors import ModelFileError
from facegate.vision.embedders.base import Embedder
from facegate.vision.model_files import (
    FACENET_FLOAT_FILENAME,
    FACENET_INT8,
    shipped_models_dir,
    verify,
)

EMBEDDER_NAMES = ("facenet", "facenet-float", "dlib")


def create_embedder(name: str, models_dir: Path | None = None, threads: int = 2) -> Embedder:
    if name == "facenet":
        from facegate.vision.embedders.litert import LiteRtFaceNet

        return LiteRtFaceNet(verify(FACENET_INT8, models_dir), "facenet", threads)
    if name == "facenet-float":
        from facegate.vision.embedders.litert import LiteRtFaceNet

        path = (models_dir or shipped_models_dir()) / FACENET_FLOAT_FILENAME
        if not path.is_file():
            raise ModelFileError(
                f"facenet-float: {path} is missing; it is a reference model for comparison, "
                "built by `python models/tools/build_facenet.py` "
                "(needs pip install .[build-models])"
            )
        return LiteRtFaceNet(path, "facenet-float", threads)
    if name == "dlib":
        from facegate.vision.embedders.dlib_resnet import DlibResNet

        return DlibResNet()
    raise ModelFileError(f"unknown embedder {name!r}; choose one of {', '.join(EMBEDDER_NAMES)}")
