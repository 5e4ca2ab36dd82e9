"""Quart: `app.asgi_app` wrapped, as Flask's `app.wsgi_app`; handlers read
`get_auth(request)` (Quart's request keeps the scope as `request.scope`); Quart's test
client, which calls the app and so `app.asgi_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

from quart import Quart, Response, request

from jwtcookie import JWTCookieMiddleware
from tests.frameworks import answer, chunks
from tests.frameworks.clients import QuartTestClient
from tests.harness import Client
from tests.scenarios import OPTIONS

JSON = "application/json"


def build() -> Quart:
    app = Quart(__name__)

    @app.route("/", methods=["GET", "HEAD", "OPTIONS"])
    @app.get("/private")
    async def index() -> Response:
        status, body = answer(request)
        return Response(body, status, mimetype=JSON)

    @app.get("/stream")
    async def stream() -> Response:
        status, body = answer(request)

        async def parts() -> AsyncIterator[bytes]:
            for part in chunks("/stream", body):
                yield part

        return Response(parts(), status, mimetype=JSON)

    @app.post("/login")
    async def login() -> Response:
        status, body = answer(request, "login")
        return Response(body, status, mimetype=JSON)

    @app.post("/logout")
    async def logout() -> Response:
        status, body = answer(request, "logout")
        return Response(body, status, mimetype=JSON)

    return app


app = build()
app.asgi_app = JWTCookieMiddleware(app.asgi_app, **OPTIONS)  # type: ignore[method-assign]


@contextmanager
def client(app: Quart) -> Iterator[Client]:
    yield QuartTestClient(app.test_client(use_cookies=False))
