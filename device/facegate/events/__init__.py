"""Access and alarm events: their shape and schemas, and where they are kept before anything
acts on them (the fsynced journal, then the durable outbox that the MQTT link drains)."""
