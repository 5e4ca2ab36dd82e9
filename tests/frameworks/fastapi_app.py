"""FastAPI: `app.add_middleware(JWTCookieMiddleware, ...)`; handlers read
`get_auth(request)`; FastAPI's TestClient (Starlette's, lifespan included)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from jwtcookie import JWTCookieMiddleware, Settings
from tests.frameworks import answer, chunks
from tests.frameworks.clients import HttpxTestClient
from tests.harness import Client
from tests.scenarios import OPTIONS

JSON = "application/json"


def build() -> FastAPI:
    app = FastAPI()

    @app.api_route("/", methods=["GET", "HEAD", "OPTIONS"])
    @app.get("/private")
    def index(request: Request) -> Response:
        status, body = answer(request)
        return Response(body, status, media_type=JSON)

    @app.get("/stream")
    def stream(request: Request) -> Response:
        status, body = answer(request)
        return StreamingResponse(iter(chunks("/stream", body)), status, media_type=JSON)

    @app.post("/login")
    def login(request: Request) -> Response:
        status, body = answer(request, "login")
        return Response(body, status, media_type=JSON)

    @app.post("/logout")
    def logout(request: Request) -> Response:
        status, body = answer(request, "logout")
        return Response(body, status, media_type=JSON)

    return app


app = build()
app.add_middleware(JWTCookieMiddleware, settings=Settings(**OPTIONS))


@contextmanager
def client(app: FastAPI) -> Iterator[Client]:
    with TestClient(app) as test_client:
        yield HttpxTestClient(test_client)
