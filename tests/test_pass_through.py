"""What wrapping an app never changes (docs/wrapping-an-app.md): the status, headers, body and
streaming of a response, the request body, WebSocket and lifespan messages, all pass through
as the app and the server wrote them, when the middleware has no cookie to set.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest

from jwtcookie import JWTCookieMiddleware
from jwtcookie.testing import mint
from tests.harness import SECRET

APP_HEADERS = [
    (b"content-type", b"text/plain; charset=latin-1"),
    (b"x-twice", b"1"),
    (b"x-twice", b"2"),
    (b"set-cookie", b"theme=dark; Path=/"),
    (b"cache-control", b"public, max-age=60"),
]
CHUNKS = [b"first ", b"second ", b"third"]
Message = dict[str, Any]


def asgi_scope(kind: str, cookie: str | None) -> dict[str, Any]:
    headers = [(b"cookie", cookie.encode())] if cookie else []
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http" if kind == "http" else "ws",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1234),
    }


def run_asgi(app: Any, scope: dict[str, Any], incoming: list[Message]) -> list[Message]:
    sent: list[Message] = []
    queue = list(incoming)

    async def receive() -> Message:
        return queue.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


async def streaming_app(scope: Any, receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 418, "headers": list(APP_HEADERS)})
    await send({"type": "http.response.body", "body": body, "more_body": True})
    for chunk in CHUNKS:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


REQUEST = [
    {"type": "http.request", "body": b"posted ", "more_body": True},
    {"type": "http.request", "body": b"in two", "more_body": False},
]


@pytest.mark.parametrize("token", ["none", "valid"])
def test_an_asgi_response_streams_through_as_the_app_sent_it(token: str) -> None:
    middleware = JWTCookieMiddleware(streaming_app, secret=SECRET, secure=False)
    cookie = None if token == "none" else f"{middleware.cookie_name}={mint(middleware)}"
    bare = run_asgi(streaming_app, asgi_scope("http", None), REQUEST)
    wrapped = run_asgi(middleware, asgi_scope("http", cookie), REQUEST)
    assert wrapped == bare
    assert wrapped[0]["status"] == 418
    assert [message["body"] for message in wrapped[1:]] == [b"posted in two", *CHUNKS, b""]


def test_an_asgi_renewal_only_appends_its_cookie_and_makes_the_response_private() -> None:
    middleware = JWTCookieMiddleware(streaming_app, secret=SECRET, secure=False)
    old = mint(middleware, age=5 * 86400)
    bare = run_asgi(streaming_app, asgi_scope("http", None), REQUEST)
    wrapped = run_asgi(middleware, asgi_scope("http", f"{middleware.cookie_name}={old}"), REQUEST)
    assert wrapped[1:] == bare[1:], "the body is untouched"
    headers = wrapped[0]["headers"]
    app_headers = [(n, v) for n, v in APP_HEADERS if n != b"cache-control"]
    assert headers[: len(app_headers)] == app_headers, "the app's headers keep their order"
    ours = headers[len(app_headers) :]
    assert [name for name, _ in ours] == [b"cache-control", b"set-cookie"]
    assert ours[1][1].startswith(middleware.cookie_name.encode() + b"=")


def wsgi_app_returning(body: Any) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        app.received = environ["wsgi.input"].read()  # type: ignore[attr-defined]
        start_response(
            "418 I'm a teapot", [(name.decode(), value.decode()) for name, value in APP_HEADERS]
        )
        return body

    return app


class Streamed:
    """A WSGI body with close(), as a file or a generator response is."""

    def __init__(self) -> None:
        self.closed = False

    def __iter__(self) -> Any:
        return iter(CHUNKS)

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("with_token", [False, True])
def test_a_wsgi_response_passes_through_with_its_own_body_iterable(with_token: bool) -> None:
    body = Streamed()
    app = wsgi_app_returning(body)
    middleware = JWTCookieMiddleware(app, secret=SECRET, secure=False)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b"posted body"),
    }
    if with_token:
        environ["HTTP_COOKIE"] = f"{middleware.cookie_name}={mint(middleware)}"
    started: list[Any] = []
    returned = middleware(
        environ, lambda status, headers, exc_info=None: started.append((status, headers))
    )
    assert returned is body, "the body iterable is the app's own, never wrapped"
    assert started == [
        ("418 I'm a teapot", [(n.decode(), v.decode()) for n, v in APP_HEADERS]),
    ]
    assert app.received == b"posted body"


async def echo_websocket(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "websocket.accept", "subprotocol": "chat", "headers": [(b"x-a", b"1")]})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message.get("text"), "bytes": None})
    await send({"type": "websocket.close", "code": 4001, "reason": "bye"})


WEBSOCKET_IN = [
    {"type": "websocket.connect"},
    {"type": "websocket.receive", "text": "hello"},
    {"type": "websocket.receive", "text": "again"},
    {"type": "websocket.disconnect", "code": 1000},
]


@pytest.mark.parametrize("with_token", [False, True])
def test_websocket_messages_pass_through_both_ways(with_token: bool) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await echo_websocket(scope, receive, send)

    middleware = JWTCookieMiddleware(app, secret=SECRET, secure=False)
    cookie = f"{middleware.cookie_name}={mint(middleware, age=5 * 86400)}" if with_token else None
    bare = run_asgi(app, asgi_scope("websocket", None), WEBSOCKET_IN)
    wrapped = run_asgi(middleware, asgi_scope("websocket", cookie), WEBSOCKET_IN)
    assert wrapped == bare, "no cookie is set on a WebSocket, not even a renewal"


def test_lifespan_messages_pass_through_both_ways() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "lifespan.startup"
        await send({"type": "lifespan.startup.complete"})
        assert (await receive())["type"] == "lifespan.shutdown"
        await send({"type": "lifespan.shutdown.failed", "message": "kept as sent"})

    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    wrapped = run_asgi(JWTCookieMiddleware(app, secret=SECRET), scope, incoming)
    assert wrapped == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.failed", "message": "kept as sent"},
    ]
