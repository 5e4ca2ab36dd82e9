"""What a user of the wheel does first, with nothing but the wheel and its dependencies.

tests/test_release.py runs this file with the Python of a fresh venv that holds the wheel
alone (no extras, no checkout on ``sys.path``): a WSGI and an ASGI app log in, are renewed
once the token is past half its life, and log out. It prints one line per flavour and exits
non-zero on the first thing that differs.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any
from wsgiref.util import setup_testing_defaults

import jwtcookie
from jwtcookie import JWTCookieMiddleware, get_auth

SECRET = "release-smoke-" + "s" * 50
DAY = 86400
Response = tuple[int, list[tuple[str, str]], dict[str, Any]]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def answer(auth: jwtcookie.Auth, path: str) -> dict[str, Any]:
    if path == "/login":
        auth.login({"_id": "42", "username": "alice"})
    elif path == "/logout":
        auth.logout()
    return {"user": auth.user.identity or None, "reason": str(auth.reason)}


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    body = json.dumps(answer(get_auth(environ), environ["PATH_INFO"])).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = json.dumps(answer(get_auth(scope), scope["path"])).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def call_wsgi(app: Any, path: str, cookie: str) -> Response:
    environ: dict[str, Any] = {"PATH_INFO": path, "REQUEST_METHOD": "POST"}
    setup_testing_defaults(environ)
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    started: list[Any] = []
    body = b"".join(
        app(environ, lambda status, headers, exc_info=None: started.extend([status, headers]))
    )
    return int(started[0].split()[0]), started[1], json.loads(body)


def call_asgi(app: Any, path: str, cookie: str) -> Response:
    headers = [(b"cookie", cookie.encode())] if cookie else []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1234),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    decoded = [(name.decode(), value.decode()) for name, value in start["headers"]]
    return start["status"], decoded, json.loads(body)


def set_cookie(headers: list[tuple[str, str]], name: str) -> SimpleCookie | None:
    for header, value in headers:
        if header.lower() == "set-cookie" and value.startswith(name + "="):
            return SimpleCookie(value)
    return None


def check(flavour: str, app: Any, call: Callable[[Any, str, str], Response], clock: Clock) -> None:
    name = app.cookie_name

    status, headers, body = call(app, "/login", "")
    login = set_cookie(headers, name)
    assert status == 200, (flavour, "login", status)
    assert body["user"] == "42", (flavour, "login", body)
    assert login, (flavour, "login set no cookie", headers)
    cookie = f"{name}={login[name].value}"

    status, headers, body = call(app, "/me", cookie)
    assert body == {"user": "42", "reason": "ok"}, (flavour, "me", body)
    assert set_cookie(headers, name) is None, (flavour, "a young token was renewed", headers)

    clock.now += 4 * DAY  # past renew_after x max_age (3.5 of 7 days)
    status, headers, body = call(app, "/me", cookie)
    renewed = set_cookie(headers, name)
    assert body["user"] == "42", (flavour, "renewal", body)
    assert renewed, (flavour, "no renewal", headers)
    assert renewed[name].value != login[name].value, (flavour, "renewal kept the old token")
    cookie = f"{name}={renewed[name].value}"

    status, headers, body = call(app, "/logout", cookie)
    deleted = set_cookie(headers, name)
    assert body["user"] is None, (flavour, "logout", body)
    assert deleted, (flavour, "logout deleted no cookie", headers)
    assert deleted[name]["max-age"] == "0", (flavour, "logout kept the cookie", headers)
    print(f"{flavour}: login, renewal, logout ok")


def main() -> None:
    wsgi_clock, asgi_clock = Clock(), Clock()
    options = {"secret": SECRET, "secure": False}
    check("wsgi", JWTCookieMiddleware(wsgi_app, clock=wsgi_clock, **options), call_wsgi, wsgi_clock)
    check("asgi", JWTCookieMiddleware(asgi_app, clock=asgi_clock, **options), call_asgi, asgi_clock)
    print(f"jwtcookie {jwtcookie.__version__} from {jwtcookie.__file__}")


if __name__ == "__main__":
    sys.exit(main())
