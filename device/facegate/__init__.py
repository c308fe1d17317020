"""facegate: face, liveness and second-factor access control for exam-room doors."""

__version__ = "0.1.0"
