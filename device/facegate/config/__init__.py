"""Typed configuration: one section per part of the door, read from TOML and validated whole.

Sections are plain data (pydantic models with their validation) and import nothing from the
parts they configure, so ``import facegate.config`` needs neither OpenCV nor numpy. Every part
is handed its own section, never the whole :class:`Settings`.
"""

from facegate.config.access import AccessConfig
from facegate.config.base import Section, credential
from facegate.config.camera import CameraConfig
from facegate.config.detection import DetectionConfig
from facegate.config.device import DeviceConfig
from facegate.config.hardware import HardwareConfig
from facegate.config.liveness import LivenessConfig
from facegate.config.loading import (
    find_config_file,
    load_settings,
    read_toml,
    settings_from_dict,
)
from facegate.config.mqtt import MqttConfig, TlsConfig
from facegate.config.paths import PathsConfig, default_data_dir
from facegate.config.recognition import EmbedderConfig, MatcherConfig, QualityConfig
from facegate.config.retention import RetentionConfig
from facegate.config.service import ServiceConfig
from facegate.config.settings import Settings

__all__ = [
    "AccessConfig",
    "CameraConfig",
    "DetectionConfig",
    "DeviceConfig",
    "EmbedderConfig",
    "HardwareConfig",
    "LivenessConfig",
    "MatcherConfig",
    "MqttConfig",
    "PathsConfig",
    "QualityConfig",
    "RetentionConfig",
    "Section",
    "ServiceConfig",
    "Settings",
    "TlsConfig",
    "credential",
    "default_data_dir",
    "find_config_file",
    "load_settings",
    "read_toml",
    "settings_from_dict",
]
