"""Shared fixtures. Third-party evaluation data is read from ../shared/data, never copied.

Where that folder is missing (a user's fresh clone) data-backed tests skip with the reason;
with CI=true a missing folder fails them instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from facegate.config import Settings
from facegate.vision.pipeline import FacePipeline

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FACEGATE_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared(*parts: str) -> Path:
    """A path under ../shared/data, or skip (fail under CI) when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing: CI runs with ../shared/data beside the clone")
        pytest.skip(f"{path} not present (evaluation data lives in ../shared/data)")
    return path


@pytest.fixture
def factory():
    """gpiozero's own MockFactory for the devices a test creates, reset afterwards."""
    from gpiozero import Device

    from facegate.hardware.pin_factory import use_pin_factory

    f = use_pin_factory("mock")
    yield f
    f.reset()
    Device.pin_factory = None


@pytest.fixture(scope="session")
def pipeline() -> FacePipeline:
    """All models loaded once: MTCNN as the detector, FaceNet int8, dlib 68 landmarks."""
    return FacePipeline.from_settings(Settings(), detector="mtcnn")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default settings with a private data directory (gallery and key file)."""
    base = Settings()
    return base.model_copy(
        update={"paths": base.paths.model_copy(update={"data_dir": tmp_path / "data"})}
    )


@pytest.fixture(scope="session")
def demo_photos() -> dict[str, np.ndarray]:
    from facegate.demo import material

    return {
        "astronaut": material.load_photo(material.ASTRONAUT),
        "hopper": material.load_photo(material.HOPPER),
        "cameraman": material.load_photo(material.CAMERAMAN),
    }
