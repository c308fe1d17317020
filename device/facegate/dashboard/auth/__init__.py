"""Users, roles, passwords (argon2id), server-side sessions, CSRF and the login rate limit."""
