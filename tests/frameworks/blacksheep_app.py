"""BlackSheep: the `Application` wrapped whole; handlers read `get_auth(request)` (BlackSheep's
request keeps the scope as `request.scope`).

BlackSheep's TestClient calls `app.handle(request)` with a request it builds itself, past
any ASGI middleware, so Starlette's TestClient, a generic ASGI client that runs the lifespan
BlackSheep starts with, drives the wrapped app instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from blacksheep import Application, Content, Request, Response, Router, StreamedContent
from starlette.testclient import TestClient

from jwtcookie import JWTCookieMiddleware
from tests.frameworks import answer, chunks
from tests.frameworks.clients import HttpxTestClient
from tests.harness import Client
from tests.scenarios import OPTIONS

JSON = b"application/json"


def respond(status: int, body: bytes) -> Response:
    return Response(status, None, Content(JSON, body))


async def index(request: Request) -> Response:
    return respond(*answer(request))


async def stream(request: Request) -> Response:
    status, body = answer(request)

    async def parts() -> AsyncIterator[bytes]:
        for part in chunks("/stream", body):
            yield part

    return Response(status, None, StreamedContent(JSON, parts))


async def login(request: Request) -> Response:
    return respond(*answer(request, "login"))


async def logout(request: Request) -> Response:
    return respond(*answer(request, "logout"))


def build() -> Application:
    app = Application(router=Router())  # not the default router every Application shares
    for method in ("GET", "HEAD", "OPTIONS"):
        app.router.add(method, "/", index)
    app.router.add_get("/private", index)
    app.router.add_get("/stream", stream)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    return app


app = JWTCookieMiddleware(build(), **OPTIONS)


@contextmanager
def client(app: Any) -> Iterator[Client]:
    with TestClient(app) as test_client:
        yield HttpxTestClient(test_client)
