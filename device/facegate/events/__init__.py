"""Access events: their shape, and the sinks that keep them (a local journal; MQTT next)."""
