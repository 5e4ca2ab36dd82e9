"""A five-line WSGI app, a ten-line ASGI app, and drivers that run one request through either.

Both apps answer JSON describing what the middleware told them, and act on the path:
``/login`` and ``/logout`` call the framework-agnostic helpers, ``/own-cookie`` sets our
cookie by hand, ``/stream`` answers in several chunks, ``/other-cookies`` sets two cookies.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from wsgiref.validate import validator

import jwt
from werkzeug.test import EnvironBuilder

from jwtcookie import JWTCookieMiddleware, get_auth

SECRET = "test-secret-" + "x" * 40  # 52 bytes: over the 32-byte minimum
USER = {"_id": "42", "username": "alice"}
DAY = 24 * 3600
MODES = ("wsgi", "asgi")
COOKIE = "__Host-access_token"  # the default name when secure=True (the default) and no domain


class Clock:
    """A clock the tests move by hand; starts at the real time so PyJWT agrees on iat."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_token(
    secret: str = SECRET,
    *,
    issued: float | None = None,
    life: float = 7 * DAY,
    claims: Mapping[str, Any] = USER,
    algorithm: str = "HS256",
    headers: dict[str, Any] | None = None,
) -> str:
    """A token as another service (or Node's jsonwebtoken) would make it."""
    iat = int(time.time() if issued is None else issued)
    payload = {**claims, "iat": iat, "exp": iat + int(life)}
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers)


def describe(auth: Any) -> bytes:
    return json.dumps(
        {
            "authenticated": auth.user.is_authenticated,
            "identity": auth.user.identity,
            "name": auth.user.display_name,
            "reason": str(auth.reason),
            "claims": dict(auth.claims),
        }
    ).encode()


def act(path: str, auth: Any) -> list[tuple[str, str]]:
    """What the apps do besides describing: log in or out, or set cookies themselves."""
    if path == "/login":
        auth.login(USER)
    elif path == "/logout":
        auth.logout()
    elif path == "/own-cookie":
        return [("Set-Cookie", f"{COOKIE}=handmade; Path=/")]
    elif path == "/other-cookies":
        return [("Set-Cookie", "theme=dark; Path=/"), ("Set-Cookie", "lang=en; Path=/")]
    return []


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    auth = get_auth(environ)
    extra = act(environ["PATH_INFO"], auth)
    start_response("200 OK", [("Content-Type", "application/json"), *extra])
    body = describe(auth)
    return [body[:5], body[5:]] if environ["PATH_INFO"] == "/stream" else [body]


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    auth = get_auth(scope)
    extra = [(k.lower().encode(), v.encode()) for k, v in act(scope["path"], auth)]
    headers = [(b"content-type", b"application/json"), *extra]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    body = describe(auth)
    if scope["path"] == "/stream":
        await send({"type": "http.response.body", "body": body[:5], "more_body": True})
        body = body[5:]
    await send({"type": "http.response.body", "body": body})


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    seen: dict[str, Any] = field(default_factory=dict)

    @property
    def set_cookies(self) -> list[str]:
        return [v for k, v in self.headers if k.lower() == "set-cookie"]

    def our_cookies(self, name: str = COOKIE) -> list[str]:
        return [v for v in self.set_cookies if v.startswith(name + "=")]

    def token(self, name: str = COOKIE) -> str | None:
        """The token our cookie carries, '' when the cookie is deleted, None when not sent."""
        ours = self.our_cookies(name)
        assert len(ours) <= 1, f"more than one {name} Set-Cookie: {ours}"
        return ours[0].split(";")[0].split("=", 1)[1] if ours else None


def wrap(mode: str, app: Any = None, **options: Any) -> Any:
    options.setdefault("secret", SECRET)
    if app is None:
        app = validator(wsgi_app) if mode == "wsgi" else asgi_app
    middleware = JWTCookieMiddleware(app, **options)
    return validator(middleware) if mode == "wsgi" else middleware


def request(
    mode: str,
    app: Any,
    path: str = "/",
    *,
    method: str = "GET",
    cookie: str | None = None,
    headers: Mapping[str, str] | None = None,
    scheme: str = "http",
    host: str = "testserver",
) -> Reply:
    """One request through a wrapped app, in either mode, with real wire-level headers."""
    all_headers = {"Host": host, **(headers or {})}
    if cookie is not None:
        all_headers["Cookie"] = cookie
    if mode == "wsgi":
        return _wsgi_request(app, path, method, all_headers, scheme)
    return asyncio.run(_asgi_request(app, path, method, all_headers, scheme))


def _wsgi_request(app: Any, path: str, method: str, headers: dict[str, str], scheme: str) -> Reply:
    builder = EnvironBuilder(
        path=path, method=method, headers=headers, base_url=f"{scheme}://{headers['Host']}"
    )
    environ = builder.get_environ()
    captured: dict[str, Any] = {}

    def start_response(
        status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        captured["status"] = int(status.split()[0])
        captured["headers"] = list(response_headers)
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return Reply(captured["status"], captured["headers"], body)


async def _asgi_request(
    app: Any, path: str, method: str, headers: dict[str, str], scheme: str
) -> Reply:
    raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    host, _, port = headers["Host"].partition(":")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": (host, int(port) if port else (443 if scheme == "https" else 80)),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    assert start["type"] == "http.response.start"
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, "exactly one response start"
    reply_headers = [
        (k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])
    ]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Reply(start["status"], reply_headers, body)


def seen(reply: Reply) -> dict[str, Any]:
    """What the app was told (its JSON body)."""
    assert reply.status == 200, reply.body
    return json.loads(reply.body)  # type: ignore[no-any-return]
