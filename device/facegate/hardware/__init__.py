"""The door's GPIO devices, all through gpiozero (mock pins in tests and the demo only)."""
