"""The web side: Starlette on uvicorn (one process), Jinja2 pages, htmx, server-sent events."""
