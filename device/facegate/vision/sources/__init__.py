"""Frame sources: the Pi camera (picamera2), OpenCV (webcam, RTSP, video file), image folders."""

from facegate.vision.sources.base import CameraError, Frame, FrameSource
from facegate.vision.sources.factory import open_source
from facegate.vision.sources.image_folder import ImageFolderSource
from facegate.vision.sources.opencv_source import OpenCVSource
from facegate.vision.sources.picamera2_source import Picamera2Source

__all__ = [
    "CameraError",
    "Frame",
    "FrameSource",
    "ImageFolderSource",
    "OpenCVSource",
    "Picamera2Source",
    "open_source",
]
