"""Each framework's own test client, adapted to `harness.Client`.

An adapter sends the scenario's Cookie header verbatim and nothing else: a client's cookie
jar would replace it (werkzeug's drops a Cookie header when the jar has none to send) or add
to it (Quart's adds a second Cookie header; httpx's and WebTest's send the jar when no header
is given), so jars are switched off or emptied after every request. Every Set-Cookie of the
response is kept, in order, in `Reply.headers`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from tests.harness import Headers, Reply


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("latin-1")


def _headers(cookie: str | bytes | None, headers: Headers) -> list[tuple[str, str]]:
    sent = [(_text(name), _text(value)) for name, value in headers]
    return sent if cookie is None else [*sent, ("Cookie", _text(cookie))]


class HttpxTestClient:
    """Starlette's, FastAPI's and Litestar's `TestClient` (httpx clients with a jar)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def request(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        cookie: str | bytes | None = None,
        headers: Headers = (),
    ) -> Reply:
        response = self.client.request(method, path, headers=_headers(cookie, headers))
        self.client.cookies.clear()  # the jar took the Set-Cookie; the next request says its own
        return Reply(response.status_code, response.headers.multi_items(), response.content)


class WerkzeugTestClient:
    """Flask's `app.test_client(use_cookies=False)`: with its jar, werkzeug would drop our
    Cookie header whenever the jar has nothing to send."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def request(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        cookie: str | bytes | None = None,
        headers: Headers = (),
    ) -> Reply:
        response = self.client.open(path, method=method, headers=_headers(cookie, headers))
        try:
            return Reply(response.status_code, response.headers.to_wsgi_list(), response.data)
        finally:
            response.close()


class QuartTestClient:
    """Quart's `app.test_client(use_cookies=False)`, one event loop per request; its jar
    would add a second Cookie header beside ours."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def request(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        cookie: str | bytes | None = None,
        headers: Headers = (),
    ) -> Reply:
        return asyncio.run(self._request(path, method, _headers(cookie, headers)))

    async def _request(self, path: str, method: str, headers: list[tuple[str, str]]) -> Reply:
        response = await self.client.open(path, method=method, headers=headers)
        body = await response.get_data()
        return Reply(response.status_code, response.headers.to_wsgi_list(), body)


class WebTestClient:
    """WebTest's `TestApp` (Pyramid's and Bottle's documented test client); `reset()` empties
    its jar after every request."""

    def __init__(self, test_app: Any) -> None:
        self.test_app = test_app

    def request(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        cookie: str | bytes | None = None,
        headers: Headers = (),
    ) -> Reply:
        sent = _headers(cookie, headers)
        response = self.test_app.request(path, method=method, headers=sent, expect_errors=True)
        self.test_app.reset()
        return Reply(response.status_int, list(response.headerlist), response.body)


Started = list[tuple[int, list[tuple[str, str]]]]


def recording(app: Any, started: Started, *, asgi: bool) -> Callable[..., Any]:
    """`app`, passing every response start into `started` on the way out: Falcon's test
    `Result.headers` keeps one value per header name, and a response may set two cookies."""
    if asgi:

        async def asgi_recorder(scope: Any, receive: Any, send: Any) -> None:
            async def record(message: Any) -> None:
                if message["type"] == "http.response.start":
                    pairs = [(_text(k), _text(v)) for k, v in message.get("headers", [])]
                    started.append((message["status"], pairs))
                await send(message)

            await app(scope, receive, record)

        return asgi_recorder

    def wsgi_recorder(environ: Any, start_response: Any) -> Iterable[bytes]:
        def record(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started.append((int(status.split()[0]), list(headers)))
            return start_response(status, headers, exc_info)

        return app(environ, record)  # type: ignore[no-any-return]

    return wsgi_recorder


class FalconTestClient:
    """`falcon.testing.TestClient` around `recording(app)`; the body is the Result's."""

    def __init__(self, app: Any, *, asgi: bool) -> None:
        import falcon.testing

        self.started: Started = []
        self.app = recording(app, self.started, asgi=asgi)
        self.asgi = asgi
        self.client = falcon.testing.TestClient(self.app)

    def request(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        cookie: str | bytes | None = None,
        headers: Headers = (),
    ) -> Reply:
        self.started.clear()
        sent_headers = _headers(cookie, headers)
        if self.asgi:  # its own loop: the sync TestClient needs a current one on Python 3.10
            result = asyncio.run(self._simulate_asgi(method, path, sent_headers))
        else:
            result = self.client.simulate_request(method, path, headers=sent_headers)
        assert len(self.started) == 1, self.started
        status, sent = self.started[0]
        assert status == result.status_code
        return Reply(status, sent, result.content)

    async def _simulate_asgi(self, method: str, path: str, headers: list[tuple[str, str]]) -> Any:
        import falcon.testing

        async with falcon.testing.ASGIConductor(self.app) as conductor:
            return await conductor.simulate_request(method, path, headers=headers)
