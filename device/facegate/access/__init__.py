"""The door's decisions: the access flow (one attempt, one decision), exam sessions and
rosters, attendance."""
