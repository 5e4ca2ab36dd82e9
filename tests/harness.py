"""The one way the tests drive a request through either flavour of the middleware.

A five-line WSGI app and a ten-line ASGI app answer JSON describing what the middleware told
them and act on the path (`act`). `Site(mode)` wraps the app of one flavour and runs one
request at a time, directly (no framework, no network), so a test can send any bytes a client
could put in a header. WSGI requests go through `wsgiref.validate.validator` on both sides of
the middleware; ASGI requests must start exactly one response. Every reply is a complete
response: a 5xx, or an exception escaping to the server, fails the test.

Also here: the suite's one secret, its one token maker, its one Set-Cookie parser.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from wsgiref.validate import validator

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from jwtcookie import JWTCookieMiddleware, get_auth

SECRET = "jwtcookie-tests-" + "0123456789abcdef" * 4  # 80 bytes: enough for HS512 too
ALICE = {"_id": "1", "username": "alice"}
MALLORY = {"_id": "666", "username": "mallory"}
DAY = 24 * 3600
WEEK = 7 * DAY
MODES = ("wsgi", "asgi")
Headers = Sequence[tuple[str | bytes, str | bytes]]


class Clock:
    """A clock the tests move by hand; starts at the real time so PyJWT agrees on iat."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_token(
    claims: Mapping[str, Any] = ALICE,
    key: Any = SECRET,
    *,
    algorithm: str = "HS256",
    issued: float | None = None,
    life: float = WEEK,
    headers: dict[str, Any] | None = None,
    **extra: Any,
) -> str:
    """A token as another service (or Node's jsonwebtoken, or an attacker holding `key`)
    would make it: `jsonwebtoken.sign(claims, key, {expiresIn: '7d'})` by default."""
    iat = int(time.time() if issued is None else issued)
    payload = {**claims, "iat": iat, "exp": iat + int(life), **extra}
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


def claims_of(token: str, key: Any = SECRET) -> dict[str, Any]:
    """The claims as signed, signature checked (HS256); no time checks, since a test's
    clock is not PyJWT's."""
    unchecked = ("verify_exp", "verify_iat", "verify_nbf", "verify_aud", "verify_iss")
    options: Any = dict.fromkeys(unchecked, False)
    return jwt.decode(token, key, algorithms=["HS256"], options=options)  # type: ignore[no-any-return]


def parse_set_cookie(value: str) -> tuple[str, str, dict[str, str]]:
    """`name=value; Attr=x; Flag` as (name, value, {attr-lower: value, flag-lower: ""});
    an attribute given twice fails."""
    first, *rest = value.split(";")
    name, _, cookie_value = first.strip().partition("=")
    attributes: dict[str, str] = {}
    for part in rest:
        attribute, _, attribute_value = part.strip().partition("=")
        assert attribute.lower() not in attributes, f"{attribute!r} twice in {value!r}"
        attributes[attribute.lower()] = attribute_value
    return name, cookie_value, attributes


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
        """What the app was told (its JSON); asserts the app answered."""
        assert self.status == 200, (self.status, self.body)
        return self.json  # type: ignore[no-any-return]

    @property
    def authenticated_as(self) -> str | None:
        seen = self.seen
        return seen["id"] if seen["auth"] else None

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def set_cookies(self, name: str | None = None) -> list[str]:
        """Every Set-Cookie value, or those that set the cookie `name`."""
        values = self.header("set-cookie")
        return values if name is None else [v for v in values if v.startswith(name + "=")]

    def cookie(self, name: str = "access_token") -> str | None:
        """The value our Set-Cookie carries ('' when deleting), None when none was sent."""
        values = self.set_cookies(name)
        assert len(values) <= 1, values
        return parse_set_cookie(values[0])[1] if values else None


class Client(Protocol):
    """Anything that sends one request and answers a `Reply`: a `Site`, a framework's test
    client or a real server behind an adapter. `tests/scenarios.py` runs against any."""

    def request(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        cookie: str | bytes | None = None,
        headers: Headers = (),
    ) -> Reply: ...


# -- the bare apps ----------------------------------------------------------------------------

# What the app does on a path; it may return extra response headers.
Act = Callable[[str, Any], "list[tuple[str, str]] | None"]


def act(path: str, auth: Any) -> list[tuple[str, str]] | None:
    """`/login` logs alice in, `/login-mallory` mallory, `/logout` logs out; `/own-cookie`
    sets our cookie by hand, `/other-cookies` sets two other cookies."""
    if path == "/login":
        auth.login(ALICE)
    elif path == "/login-mallory":
        auth.login(MALLORY)
    elif path == "/logout":
        auth.logout()
    elif path == "/own-cookie":
        return [("Set-Cookie", "access_token=handmade; Path=/")]
    elif path == "/other-cookies":
        return [("Set-Cookie", "theme=dark; Path=/"), ("Set-Cookie", "lang=en; Path=/")]
    return None


def describe(auth: Any) -> bytes:
    user = auth.user
    return json.dumps(
        {
            "auth": user.is_authenticated,
            "id": user.identity,
            "name": user.display_name,
            "reason": str(auth.reason),
            "claims": dict(auth.claims),
        }
    ).encode()


def chunks(path: str, body: bytes) -> list[bytes]:
    """`/stream` answers in two chunks, any other path in one."""
    return [body[:5], body[5:]] if path == "/stream" else [body]


def bare_app(mode: str, action: Act = act) -> Any:
    """The app of one flavour, doing `action(path, auth)` and then describing `auth`."""

    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        auth = get_auth(environ)
        extra = action(environ["PATH_INFO"], auth) or []
        start_response("200 OK", [("Content-Type", "application/json"), *extra])
        return chunks(environ["PATH_INFO"], describe(auth))

    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        auth = get_auth(scope)
        extra = action(scope["path"], auth) or []
        headers = [(b"content-type", b"application/json")]
        headers += [(name.lower().encode(), value.encode()) for name, value in extra]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        *first, last = chunks(scope["path"], describe(auth))
        for chunk in first:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": last})

    return wsgi_app if mode == "wsgi" else asgi_app


# -- the site ---------------------------------------------------------------------------------


class Site:
    """The middleware (with `options`) around the bare app of `mode` doing `action`, or
    around a test's own `app`, which is wrapped as it is (no validator inside).

    `secret=SECRET` (unless `keys=`) and `secure=False` unless a test says otherwise, so the
    cookie is `access_token`. `mode` says how requests are driven.
    """

    def __init__(self, mode: str, action: Act = act, *, app: Any = None, **options: Any) -> None:
        if "keys" not in options:
            options.setdefault("secret", SECRET)
        options.setdefault("secure", False)
        assert mode in MODES, mode
        self.mode = mode
        if app is None:
            app = bare_app(mode, action)
            app = validator(app) if mode == "wsgi" else app
        self.middleware = JWTCookieMiddleware(app, **options)

    @property
    def cookie_name(self) -> str:
        return self.middleware.cookie_name  # type: ignore[no-any-return]

    def request(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        cookie: str | bytes | None = None,
        headers: Headers = (),
        scheme: str = "http",
        host: str = "testserver",
    ) -> Reply:
        if self.mode == "asgi":
            sent = self.arequest(
                path, method=method, cookie=cookie, headers=headers, scheme=scheme, host=host
            )
            return asyncio.run(sent)
        raw = _raw_headers(host, cookie, headers)
        reply = _wsgi(self.middleware, method, path, raw, scheme, host)
        assert reply.status < 500, (reply.status, reply.body)
        return reply

    async def arequest(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        cookie: str | bytes | None = None,
        headers: Headers = (),
        scheme: str = "http",
        host: str = "testserver",
    ) -> Reply:
        """`request` on an ASGI site, awaitable: several can run at once on one loop."""
        assert self.mode == "asgi"
        raw = _raw_headers(host, cookie, headers)
        reply = await _asgi(self.middleware, method, path, raw, scheme, host)
        assert reply.status < 500, (reply.status, reply.body)
        return reply

    def login(self, path: str = "/login") -> str:
        """The token a POST to `path` sets."""
        token = self.request(path, method="POST").cookie(self.cookie_name)
        assert token
        return token


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def _raw_headers(
    host: str, cookie: str | bytes | None, headers: Headers
) -> list[tuple[bytes, bytes]]:
    raw = [(b"host", host.encode("latin-1"))]
    if cookie is not None:
        raw.append((b"cookie", _bytes(cookie)))
    return raw + [(_bytes(name).lower(), _bytes(value)) for name, value in headers]


def _server(scheme: str, host: str) -> tuple[str, int]:
    name, _, port = host.partition(":")
    return name, int(port) if port.isdigit() else (443 if scheme == "https" else 80)


def _wsgi(
    app: Any, method: str, path: str, raw: list[tuple[bytes, bytes]], scheme: str, host: str
) -> Reply:
    server_name, server_port = _server(scheme, host)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
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
    started: list[tuple[int, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((int(status.split()[0]), list(headers)))
        return lambda data: None

    result = validator(app)(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()
    assert started, "the app never started a response"
    status, headers = started[-1]
    return Reply(status, headers, body)


async def _asgi(
    app: Any, method: str, path: str, raw: list[tuple[bytes, bytes]], scheme: str, host: str
) -> Reply:
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
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": _server(scheme, host),
    }
    sent: list[Mapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, f"exactly one response start: {sent}"
    assert sent[0] is starts[0], sent
    assert not sent[-1].get("more_body", False), f"the response never ended: {sent}"
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


# -- keys and checks --------------------------------------------------------------------------


@functools.cache
def key_pair(algorithm: str) -> tuple[bytes, bytes]:
    """A fresh (private PEM, public PEM) for RS256/PS256, ES256 or EdDSA, made once per run."""
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
