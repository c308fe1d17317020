"""MQTT to database: parse, validate, commit in batches, acknowledge after the commit."""
