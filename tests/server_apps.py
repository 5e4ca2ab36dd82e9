"""The core test apps wrapped for real servers (secret from JWT_SECRET, plain-http cookies)."""

from __future__ import annotations

from jwtcookie import JWTCookieMiddleware, secret_from_env
from tests.core_apps import asgi_app, wsgi_app

asgi = JWTCookieMiddleware(asgi_app, secret=secret_from_env(), secure=False)
wsgi = JWTCookieMiddleware(wsgi_app, secret=secret_from_env(), secure=False)
