"""The door's decisions: exam sessions and rosters, attendance, (next) the access flow."""
