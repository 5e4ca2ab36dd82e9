"""Flask: `app.wsgi_app` wrapped; handlers read `get_auth(request)`; Flask's test client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response, request

from jwtcookie import JWTCookieMiddleware
from tests.frameworks import answer, chunks
from tests.frameworks.clients import WerkzeugTestClient
from tests.harness import Client
from tests.scenarios import OPTIONS


def build() -> Flask:
    app = Flask(__name__)

    def respond(status: int, body: bytes) -> Response:
        return Response(body, status, mimetype="application/json")

    @app.get("/")
    @app.get("/private")
    def index() -> Response:
        return respond(*answer(request))

    @app.get("/stream")
    def stream() -> Response:
        status, body = answer(request)
        return Response(iter(chunks("/stream", body)), status, mimetype="application/json")

    @app.post("/login")
    def login() -> Response:
        return respond(*answer(request, "login"))

    @app.post("/logout")
    def logout() -> Response:
        return respond(*answer(request, "logout"))

    return app


app = build()
app.wsgi_app = JWTCookieMiddleware(app.wsgi_app, **OPTIONS)  # type: ignore[method-assign]


@contextmanager
def client(app: Flask) -> Iterator[Client]:
    yield WerkzeugTestClient(app.test_client(use_cookies=False))
