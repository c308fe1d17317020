"""The door on MQTT: the broker link, topics, retained state, health, Home Assistant discovery,
and signed remote commands (checking them needs only the standard library and a key file)."""
