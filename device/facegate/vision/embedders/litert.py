"""FaceNet on LiteRT (the maintained successor of tflite-runtime), XNNPACK on the CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facegate.errors import ModelFileError
from facegate.vision.crops import FACENET_SIZE, facenet_crop, prewhiten
from facegate.vision.detection import Detection
from facegate.vision.embedders.base import l2_normalise


def interpreter_class() -> type:
    """LiteRT's Interpreter; tflite-runtime's only as a fallback (it is frozen at 2.14)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            raise ModelFileError(
                "no TensorFlow Lite runtime: install ai-edge-litert (pip install ai-edge-litert)"
            ) from None
    return Interpreter


class LiteRtFaceNet:
    """Runs a FaceNet ``.tflite`` (int8 or float32) on the 160x160 MTCNN-margin crop.

    An int8 model takes the prewhitened crop quantised with the input tensor's scale and zero
    point; its output (the 512-D bottleneck before L2 normalisation) is dequantised and then
    normalised here in float, which keeps more resolution than an int8 unit vector.

    A face is embedded twice, as seen and mirrored, and the two vectors are averaged: this
    test-time flip narrowed the spread of a person's embeddings on lfw10 and faces94
    (docs/recognition.md) for the cost of a second pass, once per attempt.
    """

    needs_mtcnn_box = True

    def __init__(self, model_path: Path, name: str, threads: int = 2) -> None:
        interpreter = interpreter_class()
        try:
            self._interp = interpreter(model_path=str(model_path), num_threads=threads)
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(f"{name}: LiteRT cannot load {model_path}: {exc}") from None
        inp = self._interp.get_input_details()
        out = self._interp.get_output_details()
        if len(inp) != 1 or len(out) != 1:
            raise ModelFileError(f"{name}: {model_path} must have one input and one output")
        self._in, self._out = inp[0], out[0]
        if tuple(self._in["shape"]) != (1, FACENET_SIZE, FACENET_SIZE, 3):
            raise ModelFileError(
                f"{name}: {model_path} takes input {tuple(self._in['shape'])}, "
                f"expected (1, {FACENET_SIZE}, {FACENET_SIZE}, 3)"
            )
        self.name = name
        self.dim = int(self._out["shape"][-1])
        self.quantised = self._in["dtype"] == np.int8

    def embed_crop(self, rgb_crop: np.ndarray) -> np.ndarray:
        """One pass on a 160x160 RGB uint8 crop (see :func:`facenet_crop`)."""
        x = prewhiten(rgb_crop)
        if self.quantised:
            scale, zero = self._in["quantization"]
            x = np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
        self._interp.set_tensor(self._in["index"], x[np.newaxis])
        self._interp.invoke()
        y = self._interp.get_tensor(self._out["index"])[0]
        if self._out["dtype"] == np.int8:
            scale, zero = self._out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        return l2_normalise(y)

    def embed_face_crop(self, rgb_crop: np.ndarray) -> np.ndarray:
        """The crop and its mirror image, averaged."""
        mirrored = np.ascontiguousarray(rgb_crop[:, ::-1])
        return l2_normalise(self.embed_crop(rgb_crop) + self.embed_crop(mirrored))

    def embed(self, image_bgr: np.ndarray, detection: Detection) -> np.ndarray:
        return self.embed_face_crop(facenet_crop(image_bgr, detection.box))
