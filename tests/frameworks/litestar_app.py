"""Litestar: the `Litestar` app wrapped whole; handlers read `get_auth(request)` (the scope
is `request.scope`; Litestar's own `request.user` and `request.auth` read the same keys);
Litestar's TestClient (lifespan included)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar import Litestar, Request, Response, get, head, post, route
from litestar.response import Stream
from litestar.testing import TestClient

from jwtcookie import JWTCookieMiddleware
from tests.frameworks import answer, chunks
from tests.frameworks.clients import HttpxTestClient
from tests.harness import Client
from tests.scenarios import OPTIONS

JSON = "application/json"


@route(["/", "/private"], http_method=["GET", "OPTIONS"])  # Litestar's own OPTIONS: 204
async def index(request: Request[Any, Any, Any]) -> Response[bytes]:
    status, body = answer(request)
    return Response(body, status_code=status, media_type=JSON)


@head("/")
async def index_head(request: Request[Any, Any, Any]) -> Response[None]:
    status, _ = answer(request)
    return Response(None, status_code=status, media_type=JSON)


@get("/stream")
async def stream(request: Request[Any, Any, Any]) -> Stream:
    status, body = answer(request)
    return Stream(iter(chunks("/stream", body)), status_code=status, media_type=JSON)


@post("/login")
async def login(request: Request[Any, Any, Any]) -> Response[bytes]:
    status, body = answer(request, "login")
    return Response(body, status_code=status, media_type=JSON)


@post("/logout")
async def logout(request: Request[Any, Any, Any]) -> Response[bytes]:
    status, body = answer(request, "logout")
    return Response(body, status_code=status, media_type=JSON)


def build() -> Litestar:
    return Litestar([index, index_head, stream, login, logout])


app = JWTCookieMiddleware(build(), **OPTIONS)


@contextmanager
def client(app: Any) -> Iterator[Client]:
    with TestClient(app) as test_client:
        yield HttpxTestClient(test_client)
