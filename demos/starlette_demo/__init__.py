"""Starlette demo of jwtcookie: `python -m demos.starlette_demo`; the app is `app.app`."""
