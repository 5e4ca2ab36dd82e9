"""Telling WSGI from ASGI: every app shape, the override, and what servers see."""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from typing import Any

import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import Response

from jwtcookie import JWTCookieMiddleware, get_auth
from jwtcookie.middleware import ASGIMiddleware, WSGIMiddleware
from tests.harness import ALICE, DAY, SECRET, Site, bare_app, describe, make_token

wsgi_app = bare_app("wsgi")
asgi_app = bare_app("asgi")


async def async_function(scope: Any, receive: Any, send: Any) -> None:
    await asgi_app(scope, receive, send)


class AsyncCallable:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await asgi_app(scope, receive, send)


class SyncCallable:
    def __call__(self, environ: Any, start_response: Any) -> Any:
        return wsgi_app(environ, start_response)


class AppHolder:
    def wsgi(self, environ: Any, start_response: Any) -> Any:
        return wsgi_app(environ, start_response)

    async def asgi(self, scope: Any, receive: Any, send: Any) -> None:
        await asgi_app(scope, receive, send)


def hides_its_coroutine(function: Any) -> Any:
    """A decorator that returns a plain function wrapping a coroutine function."""

    def wrapper(*args: Any) -> Any:
        return function(*args)

    return wrapper


class SyncCallReturningCoroutine:
    def __call__(self, *args: Any) -> Any:
        if len(args) == 2:  # called the WSGI way: the coroutine is all it can return
            return asyncio.sleep(0)
        return asgi_app(*args)


@pytest.mark.parametrize(
    ("app", "flavour"),
    [
        (async_function, ASGIMiddleware),
        (AsyncCallable(), ASGIMiddleware),
        (functools.partial(async_function), ASGIMiddleware),
        (functools.partial(functools.partial(AsyncCallable())), ASGIMiddleware),
        (AppHolder().asgi, ASGIMiddleware),
        (Starlette(), ASGIMiddleware),
        (wsgi_app, WSGIMiddleware),
        (SyncCallable(), WSGIMiddleware),
        (functools.partial(wsgi_app), WSGIMiddleware),
        (AppHolder().wsgi, WSGIMiddleware),
        (Flask(__name__), WSGIMiddleware),
        (Flask(__name__).wsgi_app, WSGIMiddleware),
    ],
    ids=[
        "async-def",
        "async-__call__",
        "partial-async",
        "nested-partial-object",
        "async-method",
        "starlette",
        "def",
        "sync-__call__",
        "partial-sync",
        "sync-method",
        "flask",
        "flask-wsgi_app",
    ],
)
def test_each_app_shape_gets_the_right_flavour(app: Any, flavour: type) -> None:
    middleware = JWTCookieMiddleware(app, secret=SECRET)
    assert type(middleware) is flavour
    assert isinstance(middleware, JWTCookieMiddleware)


def test_servers_see_an_asgi3_app_on_the_class() -> None:
    # uvicorn --interface auto and hypercorn look at the class's __call__.
    assert inspect.iscoroutinefunction(type(JWTCookieMiddleware(asgi_app, secret=SECRET)).__call__)
    assert not inspect.iscoroutinefunction(
        type(JWTCookieMiddleware(wsgi_app, secret=SECRET)).__call__
    )


class Endpoint(HTTPEndpoint):
    """A Starlette endpoint class: calling it builds an object that awaiting runs (ASGI 3)."""

    async def get(self, request: Request) -> Response:
        return Response(describe(get_auth(request.scope)), media_type="application/json")

    async def post(self, request: Request) -> Response:
        get_auth(request.scope).login(ALICE)
        return Response(describe(get_auth(request.scope)), media_type="application/json")


def test_a_class_with_await_is_served_as_asgi_like_uvicorn_does() -> None:
    """A Starlette ``HTTPEndpoint`` class, which uvicorn runs as it is; it used to be refused
    as an ASGI2-style class."""
    site = Site("asgi", app=Endpoint)
    assert type(site.middleware) is ASGIMiddleware
    assert site.request(cookie=f"access_token={make_token()}").authenticated_as == "1"
    assert site.request(cookie=f"access_token={site.login()}").authenticated_as == "1"


def test_a_class_is_refused_with_a_clear_message() -> None:
    with pytest.raises(TypeError, match="is a class"):
        JWTCookieMiddleware(AsyncCallable, secret=SECRET)


def test_override_serves_a_decorated_coroutine_function_as_asgi() -> None:
    hidden = hides_its_coroutine(async_function)
    assert type(JWTCookieMiddleware(hidden, secret=SECRET)) is WSGIMiddleware
    site = Site("asgi", app=hidden, interface="asgi")
    assert type(site.middleware) is ASGIMiddleware
    assert site.request(cookie=f"access_token={make_token()}").authenticated_as == "1"


def test_override_serves_a_sync_call_returning_a_coroutine_as_asgi() -> None:
    site = Site("asgi", app=SyncCallReturningCoroutine(), interface="asgi")
    assert site.request().seen["reason"] == "missing"


def test_wsgi_flavour_names_the_override_when_the_app_returns_an_awaitable() -> None:
    site = Site("wsgi", app=SyncCallReturningCoroutine())
    with pytest.raises(TypeError, match="interface='asgi'"):
        site.request()


def test_unknown_interface_is_refused() -> None:
    with pytest.raises(ValueError, match="'asgi' or 'wsgi'"):
        JWTCookieMiddleware(wsgi_app, secret=SECRET, interface="rsgi")  # type: ignore[arg-type]


def test_lifespan_scope_passes_through_untouched() -> None:
    seen_scopes: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen_scopes.append(scope)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    asyncio.run(JWTCookieMiddleware(app, secret=SECRET)(scope, None, None))  # type: ignore[arg-type]
    assert seen_scopes == [scope]
    assert seen_scopes[0] is scope


def test_websocket_scope_gets_the_user_and_no_cookie() -> None:
    captured: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        captured.update(scope)
        await send({"type": "websocket.close", "code": 1000})

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/ws",
        "headers": [(b"cookie", f"access_token={make_token()}".encode())],
    }
    asyncio.run(JWTCookieMiddleware(app, secret=SECRET, secure=False)(scope, None, send))  # type: ignore[arg-type]
    assert captured["user"].identity == "1"
    assert "authenticated" in captured["auth"].scopes
    assert sent == [{"type": "websocket.close", "code": 1000}]


def test_asgi_scope_is_copied_not_mutated() -> None:
    original = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [],
        "scheme": "http",
    }
    inner: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        inner.append(scope)

    asyncio.run(JWTCookieMiddleware(app, secret=SECRET)(dict(original), None, None))  # type: ignore[arg-type]
    assert "user" in inner[0]
    assert "user" not in original


# -- ASGI: response headers as a one-shot iterable ---------------------------------------------


async def one_shot_headers_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An app whose response headers are a generator, which the ASGI spec allows."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-security-policy", b"default-src 'self'"),
        (b"x-frame-options", b"DENY"),
    ]
    start = {"type": "http.response.start", "status": 200, "headers": iter(headers)}
    await send(start)
    await send({"type": "http.response.body", "body": b"{}"})


@pytest.mark.parametrize("cookie", ["old", "forged", "fresh", "none"])
def test_asgi_one_shot_response_headers_are_all_kept_beside_ours(cookie: str) -> None:
    """Before the fix, the renewal check read the iterable up and the app's headers were lost."""
    values = {"old": make_token(issued=time.time() - 4 * DAY), "forged": "x", "fresh": make_token()}
    sent = f"access_token={values[cookie]}" if cookie in values else None
    reply = Site("asgi", app=one_shot_headers_app).request(cookie=sent)
    names = [name for name, _ in reply.headers]
    assert names[:3] == ["content-type", "content-security-policy", "x-frame-options"]
    assert len(reply.set_cookies("access_token")) == (1 if cookie in ("old", "forged") else 0)
