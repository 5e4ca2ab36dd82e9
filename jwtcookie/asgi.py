"""The ASGI flavour: ``async def __call__``, so every server sees an ASGI 3 app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from jwtcookie.caching import PRIVATE, private_cache_control
from jwtcookie.double_submit import error_body
from jwtcookie.engine import REFUSED_ANONYMOUS, REFUSED_CROSS_SITE, Checked, maybe_await
from jwtcookie.middleware import JWTCookieMiddleware
from jwtcookie.origin import SAFE_METHODS
from jwtcookie.state import EMPTY_CLAIMS, Reason
from jwtcookie.tokens import Verified

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_NO_TOKEN = (None, Reason.MISSING, None)
POLICY_VIOLATION = 1008  # websocket close code: the server refuses this connection


class ASGIMiddleware(JWTCookieMiddleware):
    """Injects ``scope["user"]``, ``scope["auth"]`` and ``scope["jwtcookie"]``; renews on send."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]  # half of the public overload
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)  # lifespan and unknown scopes pass untouched
            return
        engine = self.engine
        headers = _Headers(scope["headers"])
        # A websocket handshake is a GET, but a cross-site page must not open an
        # authenticated socket either (cross-site websocket hijacking).
        method = "WEBSOCKET" if kind == "websocket" else scope["method"]
        if (
            engine.guard is not None
            and method not in SAFE_METHODS
            and not engine.guard.allows(
                method,
                sec_fetch_site=headers.sec_fetch_site,
                origin=headers.origin,
                host=headers.host or _server_host(scope),
            )
        ):
            await _refuse(kind, send, 403, REFUSED_CROSS_SITE)
            return
        checked, from_cookie = self._check(headers)
        if checked[0] is not None and engine.has_hooks:  # no coroutine on the common path
            refused, user = await self._hear_hooks(checked[0])
            state = engine.state(checked, from_cookie=from_cookie, user=user, refused=refused)
        else:
            state = engine.state(checked, from_cookie=from_cookie)
        if state.token_refused and engine.on_error is not None:
            await maybe_await(engine.on_error(state.reason))
        csrf = engine.double_submit
        if csrf is not None and kind == "http" and scope["method"] not in SAFE_METHODS:
            claims = state.claims if from_cookie else EMPTY_CLAIMS
            refusal = csrf.refusal(headers.cookie, _header(scope, b"x-csrf-token"), claims)
            if refusal:
                await _send_json(send, 403, error_body(refusal))
                return
        scope = {**scope, "user": state.user, "auth": state.credentials, "jwtcookie": state}
        if kind == "websocket":
            if engine.refuses_anonymous(route_path(scope), state):
                await _refuse(kind, send, 401, REFUSED_ANONYMOUS)
                return
            await self.app(scope, receive, send)  # the user is known; no cookie to send back
            return
        if engine.refuses_anonymous(route_path(scope), state):
            await _send_json(send, 401, REFUSED_ANONYMOUS, state.response_cookies(_no))
            return
        cookie_name = engine.cookies.prefix_bytes

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                app_headers = message.get("headers", [])
                if type(app_headers) is not list:  # any iterable, a generator too: read it once
                    app_headers = list(app_headers)
                    message = {**message, "headers": app_headers}
                values = state.response_cookies(lambda: _sets_cookie(app_headers, cookie_name))
                if values:
                    headers = [*_kept_from_shared_caches(app_headers), *_set_cookies(values)]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _check(self, headers: _Headers) -> tuple[Checked, bool]:
        """The token's verdict, and whether it came from the cookie (not a bearer header)."""
        engine = self.engine
        bearer = engine.bearer_token(headers.authorization)
        if bearer is not None:
            return engine.check_token(bearer), False
        if headers.cookie is not None:
            return engine.check(headers.cookie), True
        return _NO_TOKEN, True

    async def _hear_hooks(self, verified: Verified) -> tuple[Reason | None, Any]:
        engine, claims = self.engine, verified.claims
        revoked = await maybe_await(engine.is_revoked(claims)) if engine.is_revoked else False
        not_before = None
        if engine.user_not_before is not None:
            not_before = await maybe_await(engine.user_not_before(claims))
        refused = engine.revocation(verified, revoked, not_before)
        if refused is not None or engine.load_user is None:
            return refused, None
        user = await maybe_await(engine.load_user(claims))
        return (Reason.REJECTED, None) if user is None else (None, user)


class _Headers:
    """The few request headers we read, found in one pass (names are lower-case bytes)."""

    __slots__ = ("authorization", "cookie", "host", "origin", "sec_fetch_site")

    def __init__(self, raw: Any) -> None:
        self.cookie: str | None = None
        self.authorization: str | None = None
        self.origin: str | None = None
        self.sec_fetch_site: str | None = None
        self.host: str | None = None
        for name, value in raw:
            if name == b"cookie":
                text = value.decode("latin-1")
                self.cookie = text if self.cookie is None else f"{self.cookie}; {text}"
            elif name == b"authorization":
                self.authorization = value.decode("latin-1")
            elif name == b"origin":
                self.origin = value.decode("latin-1")
            elif name == b"sec-fetch-site":
                self.sec_fetch_site = value.decode("latin-1").strip().lower()
            elif name == b"host":
                self.host = value.decode("latin-1")


def route_path(scope: Scope) -> str:
    """The path the app routes on: ``path`` less ``root_path`` (Starlette's ``get_route_path``).

    Servers and routers put the root path in front of ``path`` (uvicorn ``--root-path``, a
    Starlette ``Mount``, a2wsgi under a ``SCRIPT_NAME``) or not (hypercorn, older Starlette).
    """
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :] or "/"
    return path


def _server_host(scope: Scope) -> str | None:
    server = scope.get("server")
    if not server or server[1] is None:
        return None
    host, port = server
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def _sets_cookie(headers: Any, prefix: bytes) -> bool:
    return any(
        name.lower() == b"set-cookie" and value.lstrip().startswith(prefix)
        for name, value in headers
    )


def _kept_from_shared_caches(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    cache_controls = [
        value.decode("latin-1") for name, value in headers if name.lower() == b"cache-control"
    ]
    private = private_cache_control(cache_controls)
    if private is None:
        return headers
    kept = [(name, value) for name, value in headers if name.lower() != b"cache-control"]
    return [*kept, (b"cache-control", private.encode("latin-1"))]


def _set_cookies(values: tuple[str, ...]) -> list[tuple[bytes, bytes]]:
    return [(b"set-cookie", value.encode("latin-1")) for value in values]


def _no() -> bool:
    return False


async def _send_json(
    send: Send, status: int, body: bytes, set_cookies: tuple[str, ...] = ()
) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if set_cookies:
        headers += [(b"cache-control", PRIVATE.encode()), *_set_cookies(set_cookies)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse(kind: str, send: Send, status: int, body: bytes) -> None:
    """Refuse before the app runs: a JSON answer, or closing a websocket before accepting it."""
    if kind == "websocket":
        await send({"type": "websocket.close", "code": POLICY_VIOLATION})
    else:
        await _send_json(send, status, body)
