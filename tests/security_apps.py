"""The apps and drivers the security tests share: one scenario, run through WSGI and ASGI.

A five-line WSGI app and a ten-line ASGI app, each wrapped by the middleware and driven
directly (no framework, no network), so a test can send any bytes a client could put in a
header. Every reply is checked for the one promise hostile input must keep: a complete
response, never a 5xx, never an exception escaping to the server.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from wsgiref.validate import validator

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from jwtcookie import JWTCookieMiddleware, get_auth
from tests.core_apps import Clock  # noqa: F401 - re-exported for the security tests

SECRET = "security-tests-" + "0123456789abcdef" * 4  # 79 bytes: enough for HS512 too
ALICE = {"_id": "1", "username": "alice"}
MALLORY = {"_id": "666", "username": "mallory"}
DAY = 24 * 3600
WEEK = 7 * DAY
MODES = ("wsgi", "asgi")
Headers = Sequence[tuple[str | bytes, str | bytes]]


# What the app does on a path: log in or out, say; it may return extra response headers.
Act = Callable[[str, Any], "list[tuple[str, str]] | None"]


def act(path: str, auth: Any) -> None:
    """``/login`` logs alice in, ``/login-mallory`` mallory; ``/logout`` logs out."""
    if path == "/login":
        auth.login(ALICE)
    elif path == "/login-mallory":
        auth.login(MALLORY)
    elif path == "/logout":
        auth.logout()


def describe(auth: Any) -> bytes:
    user = auth.user
    seen = {"auth": user.is_authenticated, "id": user.identity, "reason": str(auth.reason)}
    return json.dumps({**seen, "claims": dict(auth.claims)}).encode()


def make_apps(action: Act = act) -> tuple[Any, Any]:
    """The WSGI app and the ASGI app, both doing ``action(path, auth)`` then describing."""

    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        auth = get_auth(environ)
        extra = action(environ["PATH_INFO"], auth) or []
        start_response("200 OK", [("Content-Type", "application/json"), *extra])
        return [describe(auth)]

    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        auth = get_auth(scope)
        extra = action(scope["path"], auth) or []
        headers = [(b"content-type", b"application/json")]
        headers += [(name.lower().encode(), value.encode()) for name, value in extra]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": describe(auth)})

    return wsgi_app, asgi_app


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def seen(self) -> dict[str, Any]:
        """What the app was told; asserts the app ran."""
        assert self.status == 200, (self.status, self.body)
        return self.json  # type: ignore[no-any-return]

    @property
    def authenticated_as(self) -> str | None:
        seen = self.seen
        return seen["id"] if seen["auth"] else None

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def set_cookies(self, name: str = "access_token") -> list[str]:
        prefix = name + "="
        return [v for k, v in self.headers if k.lower() == "set-cookie" and v.startswith(prefix)]

    def cookie(self, name: str = "access_token") -> str | None:
        """The value our Set-Cookie carries ('' when deleting), None when none was sent."""
        values = self.set_cookies(name)
        assert len(values) <= 1, values
        return values[0].split(";")[0].split("=", 1)[1] if values else None


class Site:
    """One middleware around the bare app of one flavour; ``request`` runs one request."""

    def __init__(self, mode: str, action: Act = act, **options: Any) -> None:
        if "keys" not in options:
            options.setdefault("secret", SECRET)
        options.setdefault("secure", False)
        self.mode = mode
        wsgi_app, asgi_app = make_apps(action)
        app = validator(wsgi_app) if mode == "wsgi" else asgi_app
        self.middleware = JWTCookieMiddleware(app, **options)

    def request(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        cookie: str | bytes | None = None,
        headers: Headers = (),
    ) -> Reply:
        raw: list[tuple[bytes, bytes]] = [(b"host", b"testserver")]
        if cookie is not None:
            raw.append((b"cookie", _bytes(cookie)))
        raw += [(_bytes(name).lower(), _bytes(value)) for name, value in headers]
        if self.mode == "wsgi":
            return _wsgi(self.middleware, method, path, raw)
        return asyncio.run(_asgi(self.middleware, method, path, raw))

    def login(self, path: str = "/login") -> str:
        token = self.request(path, method="POST").cookie(self.cookie_name)
        assert token
        return token

    @property
    def cookie_name(self) -> str:
        return self.middleware.cookie_name  # type: ignore[no-any-return]


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def _wsgi(app: Any, method: str, path: str, raw: list[tuple[bytes, bytes]]) -> Reply:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": _Empty(),
        "wsgi.errors": _Errors(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in raw:
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        text = value.decode("latin-1")  # PEP 3333: header bytes as latin-1 str
        if key == "HTTP_COOKIE" and key in environ:
            text = f"{environ[key]}; {text}"  # as a server joins several Cookie headers
        environ[key] = text
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"] = int(status.split()[0])
        captured["headers"] = list(headers)
        return lambda data: None

    result = validator(app)(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()
    return Reply(captured["status"], captured["headers"], body)


async def _asgi(app: Any, method: str, path: str, raw: list[tuple[bytes, bytes]]) -> Reply:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[Mapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in starts[0]["headers"]]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Reply(starts[0]["status"], headers, body)


class _Empty:
    def read(self, *args: Any) -> bytes:
        return b""

    def readline(self, *args: Any) -> bytes:
        return b""

    def readlines(self, *args: Any) -> list[bytes]:
        return []

    def __iter__(self) -> Any:
        return iter(())


class _Errors:
    def write(self, text: str) -> None:
        pass

    def writelines(self, lines: Iterable[str]) -> None:
        pass

    def flush(self) -> None:
        pass


def token(
    claims: Mapping[str, Any] = ALICE,
    key: Any = SECRET,
    *,
    algorithm: str = "HS256",
    issued: float | None = None,
    life: float = WEEK,
    headers: dict[str, Any] | None = None,
    **extra: Any,
) -> str:
    """A token signed elsewhere (another service, or an attacker holding ``key``)."""
    iat = int(time.time() if issued is None else issued)
    payload = {**claims, "iat": iat, "exp": iat + int(life), **extra}
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


@functools.cache
def key_pair(algorithm: str) -> tuple[bytes, bytes]:
    """A fresh (private PEM, public PEM) for RS256, ES256 or EdDSA, made once per run."""
    private: Any
    if algorithm.startswith(("RS", "PS")):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def assert_anonymous(reply: Reply) -> None:
    """The handler ran, without a user: what every refused token must come to."""
    seen = reply.seen
    assert seen["auth"] is False, seen
    assert seen["id"] == ""
