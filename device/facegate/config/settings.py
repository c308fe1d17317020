"""The whole door configuration: one section per part, each handed only to its part."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from facegate.config.access import AccessConfig
from facegate.config.base import Section
from facegate.config.camera import CameraConfig
from facegate.config.detection import DetectionConfig
from facegate.config.device import DeviceConfig
from facegate.config.hardware import HardwareConfig
from facegate.config.liveness import LivenessConfig
from facegate.config.mqtt import MqttConfig
from facegate.config.paths import PathsConfig
from facegate.config.recognition import EmbedderConfig, MatcherConfig, QualityConfig
from facegate.config.retention import RetentionConfig
from facegate.config.service import ServiceConfig


class Settings(Section):
    device: DeviceConfig = Field(default_factory=DeviceConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)
    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    embedder: EmbedderConfig = Field(default_factory=EmbedderConfig)
    matcher: MatcherConfig = Field(default_factory=MatcherConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    liveness: LivenessConfig = Field(default_factory=LivenessConfig)
    camera: CameraConfig = Field(default_factory=CameraConfig)
    hardware: HardwareConfig = Field(default_factory=HardwareConfig)
    access: AccessConfig = Field(default_factory=AccessConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)

    def journal_path(self) -> Path:
        return self.service.journal_file or self.paths.data_dir / "events.jsonl"

    def with_section(self, **sections: Section) -> Settings:
        """A copy with whole sections replaced (tests and the demo build doors this way)."""
        return self.model_copy(update=sections)
