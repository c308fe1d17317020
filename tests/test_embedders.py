"""Embedders on real faces: same person close, different people far, and the crop matters."""

import numpy as np
import pytest

from facegate.config import Settings
from facegate.demo.material import variants
from facegate.identity.thresholds import shipped_threshold
from facegate.vision.crops import FACENET_MARGIN_RATIO, facenet_crop, prewhiten
from facegate.vision.detection import Box
from facegate.vision.embedders import create_embedder


def first_face(pipeline, image):
    return pipeline.mtcnn.detect(image)[0]


def test_facenet_crop_has_the_training_margin():
    image = np.zeros((400, 400, 3), np.uint8)
    image[100:228, 100:228] = 255  # a 128 px "box"
    crop = facenet_crop(image, Box(100, 100, 128, 128))
    assert crop.shape == (160, 160, 3)
    assert pytest.approx(16 / 128) == FACENET_MARGIN_RATIO
    # 16 px of margin on each side at 160 px.
    assert crop[:, :15].max() == 0 and crop[:15].max() == 0
    assert crop[17:143, 17:143].min() == 255


def test_prewhiten_is_zero_mean_unit_variance():
    x = prewhiten(np.random.default_rng(0).integers(0, 255, (160, 160, 3), dtype=np.uint8))
    assert abs(float(x.mean())) < 1e-4 and abs(float(x.std()) - 1) < 1e-3
    flat = prewhiten(np.full((160, 160, 3), 7, np.uint8))
    assert np.all(np.isfinite(flat))


@pytest.mark.parametrize("name", ["facenet", "dlib"])
def test_same_person_close_other_person_far(pipeline, demo_photos, name):
    embedder = create_embedder(name, Settings().paths.models_dir)
    threshold = shipped_threshold(name)

    def embed(image):
        v = embedder.embed(image, first_face(pipeline, image))
        assert v.dtype == np.float32 and v.shape == (embedder.dim,)
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)
        return v

    hopper = [embed(im) for im in variants(demo_photos["hopper"], 3, seed=5)]
    astronaut = embed(demo_photos["astronaut"])
    same = [1 - float(a @ b) for a, b in [(hopper[0], hopper[1]), (hopper[0], hopper[2])]]
    different = 1 - float(hopper[0] @ astronaut)
    assert max(same) < threshold < different


def test_int8_model_is_full_integer(pipeline):
    embedder = pipeline.embedder
    assert embedder.name == "facenet" and embedder.quantised and embedder.dim == 512
