"""The apps the benchmarks drive: bare, wrapped by jwtcookie, and the alternatives.

Every app answers ``GET /`` with a small plain-text ``ok``; the handlers do not read the
user, so the difference between a wrapped app and its bare twin is the wrapper alone.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

import jwt

from jwtcookie import JWTCookieMiddleware

SECRET = "benchmark-secret-" + "0123456789abcdef" * 4  # 81 bytes, fixed so runs compare
COOKIE = "access_token"
WEEK = 7 * 24 * 3600
OTHER_COOKIES = ("theme=dark", "_ga=GA1.2.1234567890.1700000000")  # a typical header has a few


# -- tokens --------------------------------------------------------------------------------


def claims(age: float = 60, *, user: int = 1) -> dict[str, Any]:
    """Claims like the demos' (``_id``, ``username``, ``iat``, ``exp``, ``jti``), ``age`` s old."""
    now = int(time.time() - age)
    return {
        "_id": f"65f0c0ffee{user:014d}",
        "username": f"user{user}",
        "iat": now,
        "exp": now + WEEK,
        "jti": secrets.token_urlsafe(12),
    }


def token(age: float = 60, *, user: int = 1) -> str:
    return jwt.encode(claims(age, user=user), SECRET, algorithm="HS256")


def renewable_token(*, user: int = 1) -> str:
    """Four days old out of seven: past the default half-life, so a request renews it."""
    return token(4 * 24 * 3600, user=user)


def tampered(value: str) -> str:
    """The same token with its signature's first character changed."""
    head, payload, signature = value.split(".")
    return f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


def cookie_header(value: str | None) -> str:
    parts = [OTHER_COOKIES[0]]
    if value is not None:
        parts.append(f"{COOKIE}={value}")
    parts.append(OTHER_COOKIES[1])
    return "; ".join(parts)


def jwtcookie(app: Any, **options: Any) -> Any:
    options.setdefault("secret", SECRET)
    options.setdefault("secure", False)
    return JWTCookieMiddleware(app, **options)


# -- bare apps -----------------------------------------------------------------------------

_ASGI_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")],
}
_ASGI_BODY = {"type": "http.response.body", "body": b"ok"}


async def bare_asgi(scope: dict[str, Any], receive: Callable[..., Any], send: Any) -> None:
    await send(dict(_ASGI_START))
    await send(_ASGI_BODY)


def bare_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def starlette_app(*, middleware: list[Any] | None = None) -> Any:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def home(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/", home)], middleware=middleware)


def flask_app() -> Any:
    from flask import Flask

    app = Flask("bench_flask")

    @app.get("/")
    def home() -> str:
        return "ok"

    return app


# -- the alternatives ----------------------------------------------------------------------


class LeanASGI:
    """What one would write by hand: find the cookie, ``jwt.decode``, put claims in scope."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "user": lean_user(_asgi_cookie(scope))}
        await self.app(scope, receive, send)


class LeanWSGI:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ["lean.user"] = lean_user(environ.get("HTTP_COOKIE"))
        return self.app(environ, start_response)  # type: ignore[no-any-return]


def _asgi_cookie(scope: dict[str, Any]) -> str | None:
    for name, value in scope["headers"]:
        if name == b"cookie":
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def lean_user(header: str | None) -> dict[str, Any] | None:
    if not header:
        return None
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            try:
                return jwt.decode(  # type: ignore[no-any-return]
                    value, SECRET, algorithms=["HS256"], options={"require": ["exp", "iat"]}
                )
            except jwt.InvalidTokenError:
                return None
    return None


def starlette_auth_app() -> Any:
    """Starlette's own AuthenticationMiddleware with a JWT-cookie backend."""
    from starlette.authentication import (
        AuthCredentials,
        AuthenticationBackend,
        AuthenticationError,
        SimpleUser,
    )
    from starlette.middleware import Middleware
    from starlette.middleware.authentication import AuthenticationMiddleware

    class JWTCookieBackend(AuthenticationBackend):
        async def authenticate(self, conn: Any) -> tuple[AuthCredentials, SimpleUser] | None:
            value = conn.cookies.get(COOKIE)
            if not value:
                return None
            try:
                found = jwt.decode(
                    value, SECRET, algorithms=["HS256"], options={"require": ["exp", "iat"]}
                )
            except jwt.InvalidTokenError as error:
                raise AuthenticationError("invalid token") from error
            return AuthCredentials(["authenticated"]), SimpleUser(found["username"])

    return starlette_app(
        middleware=[Middleware(AuthenticationMiddleware, backend=JWTCookieBackend())]
    )


def flask_jwt_extended_app() -> tuple[Any, str]:
    """Flask + Flask-JWT-Extended reading the cookie, ``@jwt_required()``; and a valid token."""
    from flask import Flask
    from flask_jwt_extended import JWTManager, create_access_token, jwt_required

    app = Flask("bench_fje")
    app.config.update(
        JWT_SECRET_KEY=SECRET,
        JWT_TOKEN_LOCATION=["cookies"],
        JWT_ACCESS_COOKIE_NAME=COOKIE,
        JWT_COOKIE_CSRF_PROTECT=False,  # GET is never CSRF-checked anyway
    )
    JWTManager(app)

    @app.get("/")
    @jwt_required()
    def home() -> str:
        return "ok"

    with app.app_context():
        value = create_access_token(identity="65f0c0ffee00000000000001")
    return app, value
