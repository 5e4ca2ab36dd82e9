"""Bottle: `bottle.Bottle()` wrapped whole; routes read `get_auth(bottle.request)` (the
thread-local request keeps the environ as `request.environ`); WebTest's `TestApp`, which
Bottle's docs use for functional tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import bottle
from webtest import TestApp

from jwtcookie import JWTCookieMiddleware
from tests.frameworks import answer, chunks
from tests.frameworks.clients import WebTestClient
from tests.harness import Client
from tests.scenarios import OPTIONS


def respond(status: int, body: bytes) -> bytes:
    bottle.response.status, bottle.response.content_type = status, "application/json"
    return body


def build() -> bottle.Bottle:
    app = bottle.Bottle()

    @app.route("/", method=["GET", "HEAD", "OPTIONS"])
    @app.get("/private")
    def index() -> bytes:
        return respond(*answer(bottle.request))

    @app.get("/stream")
    def stream() -> Iterator[bytes]:
        status, body = answer(bottle.request)
        respond(status, body)
        return iter(chunks("/stream", body))

    @app.post("/login")
    def login() -> bytes:
        return respond(*answer(bottle.request, "login"))

    @app.post("/logout")
    def logout() -> bytes:
        return respond(*answer(bottle.request, "logout"))

    return app


app = JWTCookieMiddleware(build(), **OPTIONS)


@contextmanager
def client(app: Any) -> Iterator[Client]:
    yield WebTestClient(TestApp(app))
