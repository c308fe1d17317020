"""A model file that is missing, truncated or altered stops start-up with a clear error."""

import shutil
from pathlib import Path

import pytest

from facegate.config import Settings
from facegate.errors import ModelFileError
from facegate.vision import model_files as mf
from facegate.vision.embedders import create_embedder
from facegate.vision.embedders.litert import LiteRtFaceNet
from facegate.vision.pipeline import FacePipeline


@pytest.mark.parametrize("model", mf.SHIPPED_MODELS, ids=lambda m: m.filename)
def test_every_shipped_model_verifies(model):
    path = mf.verify(model, Settings().paths.models_dir)
    assert path.is_file()


@pytest.fixture
def models_copy(tmp_path: Path) -> Path:
    shutil.copy(mf.FACENET_INT8.locate(Settings().paths.models_dir), tmp_path)
    return tmp_path


def settings_with(models_dir: Path) -> Settings:
    base = Settings()
    return base.model_copy(
        update={"paths": base.paths.model_copy(update={"models_dir": models_dir})}
    )


def test_missing_model_stops_start_up(tmp_path):
    with pytest.raises(ModelFileError, match=r"facenet_int8\.tflite is missing"):
        FacePipeline.from_settings(settings_with(tmp_path))


def test_truncated_model_stops_start_up(models_copy):
    path = models_copy / "facenet_int8.tflite"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="is truncated"):
        FacePipeline.from_settings(settings_with(models_copy))


def test_altered_model_stops_start_up(models_copy):
    path = models_copy / "facenet_int8.tflite"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"has sha256 .* expected"):
        FacePipeline.from_settings(settings_with(models_copy))


def test_garbage_model_cannot_be_loaded_even_unpinned(tmp_path):
    garbage = tmp_path / "garbage.tflite"
    garbage.write_bytes(b"not a flatbuffer" * 100)
    with pytest.raises(ModelFileError, match="LiteRT cannot load"):
        LiteRtFaceNet(garbage, "facenet")


def test_float_reference_model_missing_is_explained(tmp_path):
    with pytest.raises(ModelFileError, match=r"build_facenet\.py"):
        create_embedder("facenet-float", tmp_path)


def test_missing_package_file_is_named(monkeypatch):
    fake = mf.ModelFile("thing", "thing.bin", "0" * 64, 1, package="no_such_package_xyz")
    with pytest.raises(ModelFileError, match="no_such_package_xyz"):
        mf.verify(fake)
