"""Request handlers, a module per page family; each starts with its permission check."""
