"""Falcon, WSGI (`falcon.App`) and ASGI (`falcon.asgi.App`), each wrapped whole; responders
read `get_auth(req)` (Falcon keeps the environ as `req.env`, the scope as `req.scope`);
`falcon.testing.TestClient`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import falcon
import falcon.asgi

from jwtcookie import JWTCookieMiddleware
from tests.frameworks import answer, chunks
from tests.frameworks.clients import FalconTestClient
from tests.harness import Client
from tests.scenarios import OPTIONS


def respond(resp: Any, status: int, body: bytes) -> None:
    resp.status, resp.content_type, resp.data = status, falcon.MEDIA_JSON, body


class Page:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        respond(resp, *answer(req))

    on_head = on_options = on_get

    def on_get_stream(self, req: falcon.Request, resp: falcon.Response) -> None:
        status, body = answer(req)
        resp.status, resp.content_type = status, falcon.MEDIA_JSON
        resp.stream = iter(chunks("/stream", body))

    def on_post_login(self, req: falcon.Request, resp: falcon.Response) -> None:
        respond(resp, *answer(req, "login"))

    def on_post_logout(self, req: falcon.Request, resp: falcon.Response) -> None:
        respond(resp, *answer(req, "logout"))


class AsyncPage:
    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        respond(resp, *answer(req))

    on_head = on_options = on_get

    async def on_get_stream(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        status, body = answer(req)

        async def stream() -> AsyncIterator[bytes]:
            for chunk in chunks("/stream", body):
                yield chunk

        resp.status, resp.content_type, resp.stream = status, falcon.MEDIA_JSON, stream()

    async def on_post_login(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        respond(resp, *answer(req, "login"))

    async def on_post_logout(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        respond(resp, *answer(req, "logout"))


def build(*, asgi: bool) -> Any:
    app = falcon.asgi.App() if asgi else falcon.App()
    page = AsyncPage() if asgi else Page()
    app.add_route("/", page)
    app.add_route("/private", page)
    for suffix in ("stream", "login", "logout"):
        app.add_route(f"/{suffix}", page, suffix=suffix)
    return app


wsgi = JWTCookieMiddleware(build(asgi=False), **OPTIONS)
asgi = JWTCookieMiddleware(build(asgi=True), **OPTIONS)


@contextmanager
def client(app: Any, *, asgi: bool) -> Iterator[Client]:
    yield FalconTestClient(app, asgi=asgi)
