"""Websocket handshakes and async on_error hooks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from jwtcookie import JWTCookieMiddleware
from tests.harness import SECRET, Site, make_token


def handshake(middleware: Any, headers: dict[str, str], path: str = "/ws") -> list[Any]:
    """Run one websocket handshake; what the middleware or the app sent back."""
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    scope = {
        "type": "websocket",
        "scheme": "ws",
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "server": ("testserver", 80),
    }
    asyncio.run(middleware(scope, receive, send))
    return sent


async def accepting_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": scope["user"].display_name})


def test_cross_site_websocket_handshake_is_closed_before_the_app_runs() -> None:
    middleware = JWTCookieMiddleware(accepting_app, secret=SECRET, secure=False)
    cookie = f"access_token={make_token()}"
    refused = handshake(
        middleware, {"Host": "testserver", "Origin": "http://evil.example", "Cookie": cookie}
    )
    assert refused == [{"type": "websocket.close", "code": 1008}]


def test_same_origin_websocket_handshake_reaches_the_app_with_the_user() -> None:
    middleware = JWTCookieMiddleware(accepting_app, secret=SECRET, secure=False)
    cookie = f"access_token={make_token()}"
    sent = handshake(
        middleware, {"Host": "testserver", "Origin": "http://testserver", "Cookie": cookie}
    )
    assert sent == [{"type": "websocket.accept"}, {"type": "websocket.send", "text": "alice"}]


def test_anonymous_websocket_to_a_protected_path_is_closed_with_1008() -> None:
    middleware = JWTCookieMiddleware(
        accepting_app, secret=SECRET, secure=False, protected_paths=["/ws"]
    )
    assert handshake(middleware, {"Host": "testserver"}) == [
        {"type": "websocket.close", "code": 1008}
    ]
    cookie = f"access_token={make_token()}"
    assert (
        handshake(middleware, {"Host": "testserver", "Cookie": cookie})[0]["type"]
        == "websocket.accept"
    )


@pytest.mark.parametrize("action", ["login", "logout"])
def test_login_or_logout_on_a_websocket_raises_instead_of_doing_nothing(action: str) -> None:
    """A WebSocket has no response to carry a cookie; with a revocation store, logout() used
    to revoke nothing either, silently."""
    raised: list[BaseException] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        auth = scope["auth"]
        try:
            auth.login({"_id": "2"}) if action == "login" else auth.logout()
        except RuntimeError as error:
            raised.append(error)
        await send({"type": "websocket.close", "code": 1000})

    middleware = JWTCookieMiddleware(app, secret=SECRET, secure=False)
    handshake(middleware, {"Host": "testserver", "Cookie": f"access_token={make_token()}"})
    assert len(raised) == 1
    assert f"{action}() was called on a WebSocket" in str(raised[0])


def test_async_on_error_hook_is_awaited_on_asgi() -> None:
    heard: list[str] = []

    async def on_error(reason: Any) -> None:
        await asyncio.sleep(0)
        heard.append(str(reason))

    Site("asgi", on_error=on_error).request(cookie="access_token=junk")
    assert heard == ["invalid"]
