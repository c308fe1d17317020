"""Face embedders: FaceNet int8 on LiteRT (default), FaceNet float, dlib's ResNet."""

from facegate.vision.embedders.base import Embedder
from facegate.vision.embedders.factory import EMBEDDER_NAMES, create_embedder

__all__ = ["EMBEDDER_NAMES", "Embedder", "create_embedder"]
