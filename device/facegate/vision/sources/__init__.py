"""Frame sources: the Pi camera (picamera2), OpenCV (webcam, RTSP, video file), image folders."""

from facegate.vision.sources.base import CameraError, Frame, FrameSource
from facegate.vision.sources.image_folder import ImageFolderSource
from facegate.vision.sources.opencv_source import OpenCVSource
from facegate.vision.sources.picamera2_source import Picamera2Source
from facegate.vision.sources.settings import CameraConfig, open_source

__all__ = [
    "CameraConfig",
    "CameraError",
    "Frame",
    "FrameSource",
    "ImageFolderSource",
    "OpenCVSource",
    "Picamera2Source",
    "open_source",
]
