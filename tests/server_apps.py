"""The core test apps wrapped for real servers (secret from JWT_SECRET, plain-http cookies)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtcookie import JWTCookieMiddleware, secret_from_env
from tests.core_apps import asgi_app, wsgi_app

asgi = JWTCookieMiddleware(asgi_app, secret=secret_from_env(), secure=False)
wsgi = JWTCookieMiddleware(wsgi_app, secret=secret_from_env(), secure=False)


async def _private(request: Request) -> JSONResponse:
    return JSONResponse({"handler": "private", "user": request.user.identity})


async def _public(request: Request) -> JSONResponse:
    return JSONResponse({"handler": "public", "user": request.user.identity})


# A real router behind `protected_paths`: the servers' --root-path tests run this one.
routed = JWTCookieMiddleware(
    Starlette(routes=[Route("/api/private", _private), Route("/public", _public)]),
    secret=secret_from_env(),
    secure=False,
    protected_paths=["/api"],
)
