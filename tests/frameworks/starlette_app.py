"""Starlette: `Middleware(JWTCookieMiddleware, ...)`; handlers read `get_auth(request)`;
Starlette's TestClient (lifespan included)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from jwtcookie import JWTCookieMiddleware, Settings
from tests.frameworks import answer, chunks
from tests.frameworks.clients import HttpxTestClient
from tests.harness import Client
from tests.scenarios import OPTIONS

JSON = "application/json"


async def index(request: Request) -> Response:
    status, body = answer(request)
    return Response(body, status, media_type=JSON)


async def stream(request: Request) -> Response:
    status, body = answer(request)
    return StreamingResponse(iter(chunks("/stream", body)), status, media_type=JSON)


async def login(request: Request) -> Response:
    status, body = answer(request, "login")
    return Response(body, status, media_type=JSON)


async def logout(request: Request) -> Response:
    status, body = answer(request, "logout")
    return Response(body, status, media_type=JSON)


ROUTES = [
    Route("/", index, methods=["GET", "HEAD", "OPTIONS"]),
    Route("/private", index),
    Route("/stream", stream),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]


def build(middleware: list[Middleware] | None = None) -> Starlette:
    return Starlette(routes=ROUTES, middleware=middleware)


app = build([Middleware(JWTCookieMiddleware, settings=Settings(**OPTIONS))])


@contextmanager
def client(app: Starlette) -> Iterator[Client]:
    with TestClient(app) as test_client:
        yield HttpxTestClient(test_client)
