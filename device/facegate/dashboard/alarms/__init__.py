"""The alarms inbox: what raises an alarm, floods, acknowledgement, closing, snooze."""
