"""Sanic in ASGI mode: the `Sanic` app wrapped whole and served by an ASGI server; handlers
read `get_auth(request)` (`request.scope`, which Sanic has in ASGI mode only).

sanic-testing's clients cannot reach the middleware: its ASGI client calls the `Sanic` app
itself, its other client starts Sanic's own server. Starlette's TestClient, a generic ASGI
client that runs the lifespan Sanic starts with, drives the wrapped app instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sanic import HTTPResponse, Request, Sanic
from starlette.testclient import TestClient

from jwtcookie import JWTCookieMiddleware
from tests.frameworks import answer, chunks
from tests.frameworks.clients import HttpxTestClient
from tests.harness import Client
from tests.scenarios import OPTIONS

JSON = "application/json"
NUMBERS = itertools.count()  # Sanic app names are unique in a process


def build() -> Sanic:
    app = Sanic(f"jwtcookie_matrix_{next(NUMBERS)}")
    # Touch-up rewrites Sanic's own methods at start-up, and fails on a second app started in
    # the same process (this test run starts two); an app of its own needs no such line.
    app.config.TOUCHUP = False

    @app.route("/", methods=["GET", "HEAD", "OPTIONS"], name="index")
    @app.get("/private", name="private")
    async def index(request: Request) -> HTTPResponse:
        status, body = answer(request)
        return HTTPResponse(body, status, content_type=JSON)

    @app.get("/stream")
    async def stream(request: Request) -> None:
        status, body = answer(request)
        response = await request.respond(status=status, content_type=JSON)
        for part in chunks("/stream", body):
            await response.send(part)
        await response.eof()

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        status, body = answer(request, "login")
        return HTTPResponse(body, status, content_type=JSON)

    @app.post("/logout")
    async def logout(request: Request) -> HTTPResponse:
        status, body = answer(request, "logout")
        return HTTPResponse(body, status, content_type=JSON)

    return app


app = JWTCookieMiddleware(build(), **OPTIONS)


@contextmanager
def client(app: Any) -> Iterator[Client]:
    with TestClient(app) as test_client:
        yield HttpxTestClient(test_client)
