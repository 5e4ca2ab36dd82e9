"""The apps ``--serve`` runs under uvicorn and waitress (``module:attribute`` targets)."""

from __future__ import annotations

from benchmarks import apps

starlette_bare = apps.starlette_app()
starlette_jwtcookie = apps.jwtcookie(apps.starlette_app())  # uvicorn's auto interface: ASGI 3

flask_bare = apps.flask_app()
flask_jwtcookie = apps.jwtcookie(apps.flask_app())  # waitress calls it as a WSGI app
