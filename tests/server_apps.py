"""The apps the real-server tests serve (import strings for uvicorn, hypercorn, waitress...).

`asgi` and `wsgi`: the bare apps of tests/harness.py, wrapped as tests/scenarios.py says.
`routed`: a real router behind `protected_paths`, for the servers' --root-path tests.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtcookie import JWTCookieMiddleware
from tests.harness import SECRET, bare_app
from tests.scenarios import OPTIONS

asgi = JWTCookieMiddleware(bare_app("asgi"), **OPTIONS)
wsgi = JWTCookieMiddleware(bare_app("wsgi"), **OPTIONS)


async def private(request: Request) -> JSONResponse:
    return JSONResponse({"handler": "private", "user": request.user.identity})


async def public(request: Request) -> JSONResponse:
    return JSONResponse({"handler": "public", "user": request.user.identity})


def routed_starlette() -> Starlette:
    return Starlette(routes=[Route("/api/private", private), Route("/public", public)])


routed = JWTCookieMiddleware(
    routed_starlette(), secret=SECRET, secure=False, protected_paths=["/api"]
)
