"""The frame source a ``[camera]`` section describes."""

from __future__ import annotations

from pathlib import Path

from facegate.config.camera import CameraConfig
from facegate.vision.sources.base import FrameSource
from facegate.vision.sources.image_folder import ImageFolderSource
from facegate.vision.sources.opencv_source import NETWORK_SCHEMES, OpenCVSource
from facegate.vision.sources.picamera2_source import Picamera2Source


def open_source(cfg: CameraConfig) -> FrameSource:
    """The source ``cfg`` describes, constructed but not opened (the capture thread opens it)."""
    if cfg.kind == "picamera2":
        return Picamera2Source(cfg.width, cfg.height, cfg.fps, camera_num=int(cfg.device))
    if cfg.kind == "folder":
        return ImageFolderSource(Path(cfg.device), fps=cfg.fps)
    target: int | str | Path
    if cfg.device.isdigit():
        target = int(cfg.device)
    elif cfg.device.lower().startswith(NETWORK_SCHEMES):
        target = cfg.device
    else:
        target = Path(cfg.device)
    return OpenCVSource(target, cfg.width, cfg.height, cfg.fps)
