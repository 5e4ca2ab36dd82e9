"""``JWTCookieMiddleware``: the one public class; it becomes the ASGI or the WSGI flavour.

Servers decide what an object is from its *class's* ``__call__`` (uvicorn's ``--interface
auto``, hypercorn), so each flavour is a real subclass with its own ``__call__``:
:class:`ASGIMiddleware` and :class:`WSGIMiddleware`, below. They only translate I/O: the
policy (:mod:`jwtcookie._request.policy`) decides, and :mod:`jwtcookie._request.hooks` calls
the app's hooks for it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from jwtcookie._request.hooks import await_hook, call_hook, run_async, run_sync
from jwtcookie._request.interface import Interface, detect_interface
from jwtcookie._request.policy import Policy
from jwtcookie._request.responses import EarlyResponse
from jwtcookie._request.view import RequestView
from jwtcookie.auth import (
    ENVIRON_AUTH,
    ENVIRON_USER,
    ON_A_WEBSOCKET,
    SCOPE_AUTH,
    SCOPE_USER,
    Auth,
)
from jwtcookie.keys import KeySource, key_source
from jwtcookie.settings import Options, Settings

OPTIONS = inspect.signature(Settings).parameters

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from typing_extensions import Unpack

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Environ = dict[str, Any]

WEBSOCKET_POLICY_VIOLATION = 1008


@contextmanager
def _told_when_built_in_a_server() -> Iterator[None]:
    """Log a configuration mistake raised while an event loop runs, then raise it.

    Starlette builds its middleware stack on the first ASGI call, inside the server, and
    uvicorn's ``lifespan="auto"`` takes the error for "no lifespan support" and starts:
    without this line the mistake shows only as a 500 on every request.
    """
    try:
        yield
    except (TypeError, ValueError) as error:
        if _event_loop_running():
            logging.getLogger("jwtcookie").error("%s", error)
        raise


def _event_loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class CacheInfo(NamedTuple):
    """The sizes of the caches of verified tokens and of recent renewals (for metrics)."""

    verified: int
    renewed: int
    maxsize: int


class JWTCookieMiddleware:
    """Stateless login for a WSGI or an ASGI app: a JWT in an HttpOnly cookie.

    Extracts the token from the cookie, verifies it, puts the user in the request
    (``scope["user"]`` on ASGI, ``environ["jwtcookie.user"]`` on WSGI) and renews the
    cookie once half its life has passed. Constructing it returns the ASGI or the WSGI
    flavour, whichever fits ``app``. The options are :class:`Settings`'s (docs/options.md),
    given here or as one ``settings=Settings(...)`` built, and so checked, at import time.
    """

    @_told_when_built_in_a_server()
    def __new__(cls, app: Any, **options: Any) -> JWTCookieMiddleware:
        if cls is not JWTCookieMiddleware:
            return super().__new__(cls)
        interface = options.get("interface")
        kind = interface if interface is not None else detect_interface(app)
        if kind == "asgi":
            return super().__new__(ASGIMiddleware)
        if kind == "wsgi":
            return super().__new__(WSGIMiddleware)
        raise ValueError(f"jwtcookie: interface must be 'asgi' or 'wsgi', not {kind!r}.")

    if TYPE_CHECKING:
        # Servers read the class's __call__, so each flavour defines its own; typed, both.
        @overload
        def __call__(
            self,
            scope: MutableMapping[str, Any],
            receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
            send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
            /,
        ) -> Awaitable[None]: ...
        @overload
        def __call__(
            self, environ: WSGIEnvironment, start_response: StartResponse
        ) -> Iterable[bytes]: ...
        def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

    @_told_when_built_in_a_server()
    def __init__(
        self,
        app: Any,
        *,
        settings: Settings | None = None,
        interface: Interface | None = None,
        **options: Unpack[Options],
    ) -> None:
        """``settings`` is a :class:`Settings` checked at import time, or the options are
        :class:`Settings`' own keywords, given here; ``interface`` ("asgi" or "wsgi") is for
        an app whose kind detection cannot tell."""
        if settings is None:
            if unknown := sorted(set(options) - set(OPTIONS)):
                raise TypeError(
                    f"jwtcookie: no option named {', '.join(unknown)}; the options are "
                    "jwtcookie.Settings' keywords (docs/options.md)."
                )
            settings = Settings(**options)
        elif not isinstance(settings, Settings):
            raise TypeError("jwtcookie: settings= takes a jwtcookie.Settings.")
        elif options:
            raise TypeError(
                f"jwtcookie: pass the options to Settings(...) or here, not both "
                f"(got settings= and {', '.join(sorted(options))})."
            )
        self._check(app, settings)
        self.app = app
        self._policy = Policy(settings)
        self._responses = self._policy.responses
        self._codec = self._policy.codec

    def _check(self, app: Any, settings: Settings) -> None:
        """What a flavour refuses to wrap: each one overrides it."""

    @property
    def settings(self) -> Settings:
        return self._policy.settings

    @property
    def cookie_name(self) -> str:
        """The login cookie's name (``__Host-access_token`` unless configured otherwise)."""
        return self._responses.cookies.name

    @property
    def keyring(self) -> KeySource:
        """The keys it verifies and signs with now (``rotate_keys`` changes them)."""
        return self._codec.keyring

    def issue(self, claims: Mapping[str, Any]) -> str:
        """A signed token for ``claims`` (for non-browser clients; browsers use ``login``)."""
        return self._codec.issue(claims)[0]

    def set_cookie_header(self, token: str) -> str:
        """The Set-Cookie value that stores ``token`` with this middleware's attributes."""
        return self._responses.cookies.set_header(token)

    @property
    def delete_cookie_header(self) -> str:
        return self._responses.cookies.delete_header

    def cache_info(self) -> CacheInfo:
        """How many verified and renewed tokens are remembered now, and the bound on each."""
        state = self._codec.state
        return CacheInfo(len(state.verified), len(state.renewed), self.settings.cache_size)

    def rotate_keys(self, keys: KeySource) -> None:
        """Switch to a new keyring at run time; tokens verified under the old one are forgotten."""
        self._codec.rotate(key_source(keys, "rotate_keys()"))


def _signature_with_the_options() -> inspect.Signature:
    """The constructor's signature as ``help()`` and editors show it: every option in full."""
    own = inspect.signature(JWTCookieMiddleware.__init__).parameters
    head = [own["self"], own["app"], own["settings"], own["interface"]]
    return inspect.Signature([*head, *OPTIONS.values()], return_annotation=None)


JWTCookieMiddleware.__init__.__signature__ = _signature_with_the_options()  # type: ignore[attr-defined]
JWTCookieMiddleware.__signature__ = _signature_with_the_options().replace(  # type: ignore[attr-defined]
    parameters=list(_signature_with_the_options().parameters.values())[1:]
)


class ASGIMiddleware(JWTCookieMiddleware):
    """Injects ``scope["user"]`` and ``scope["auth"]``; adds the cookies as the response starts."""

    def _check(self, app: Any, settings: Settings) -> None:
        if settings.protected_paths and _django_script_name():
            raise ValueError(
                "jwtcookie: Django routes on the path less FORCE_SCRIPT_NAME, which a wrapper "
                "outside Django cannot see, so protected_paths would guard other paths than "
                "Django's; list 'jwtcookie.contrib.django.JWTCookieMiddleware' in MIDDLEWARE and "
                "set protected_paths in its JWTCOOKIE setting instead."
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]  # half of the public overload
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        responses = self._responses
        auth = self._policy.admit(RequestView.from_scope(scope))
        if not isinstance(auth, Auth):
            if not isinstance(auth, EarlyResponse):
                auth = await run_async(auth)
            if isinstance(auth, EarlyResponse):
                await _refuse_asgi(kind, send, auth)
                return
        scope = {**scope, SCOPE_USER: auth.user, SCOPE_AUTH: auth}
        if kind == "websocket":
            auth.take_outgoing(ON_A_WEBSOCKET)  # the user is known; no cookie can go back
            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                outgoing = auth.take_outgoing()
                revoking = responses.revoking(outgoing)
                if revoking is not None:
                    await await_hook(revoking)
                if outgoing is not None:
                    headers = [
                        (n.decode("latin-1"), v.decode("latin-1"))
                        for n, v in message.get("headers", ())
                    ]
                    answered = responses.respond(outgoing, headers)
                    raw = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in answered]
                    message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_cookies)


class WSGIMiddleware(JWTCookieMiddleware):
    """Sets ``environ["jwtcookie.user"]`` and ``environ["jwtcookie.auth"]``."""

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:  # type: ignore[override]  # half of the public overload
        responses = self._responses
        auth = self._policy.admit(RequestView.from_environ(environ))
        if not isinstance(auth, Auth):
            if not isinstance(auth, EarlyResponse):
                auth = run_sync(auth)
            if isinstance(auth, EarlyResponse):
                status = f"{auth.status} {HTTPStatus(auth.status).phrase}"
                start_response(status, list(auth.headers))
                return [auth.body]
        environ[ENVIRON_USER] = auth.user
        environ[ENVIRON_AUTH] = auth

        def start_response_with_cookies(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            outgoing = auth.take_outgoing()
            revoking = responses.revoking(outgoing)
            if revoking is not None:
                call_hook(revoking)
            if outgoing is not None:
                headers = responses.respond(outgoing, headers)
            return start_response(status, headers, exc_info)

        result = self.app(environ, start_response_with_cookies)
        if type(result) is not list and inspect.isawaitable(result):
            if hasattr(result, "close"):
                result.close()
            raise TypeError(
                "jwtcookie: the wrapped app returned an awaitable, so it is an ASGI app that "
                "detection could not see; pass interface='asgi'."
            )
        return result

    def _check(self, app: Any, settings: Settings) -> None:
        if settings.async_hooks():
            raise TypeError(
                f"jwtcookie: a WSGI app cannot await an `async def` hook "
                f"({', '.join(settings.async_hooks())}); pass a plain function."
            )


async def _refuse_asgi(kind: str, send: Send, refusal: EarlyResponse) -> None:
    """Refuse before the app runs: a JSON answer, or closing a websocket before accepting it."""
    if kind == "websocket":
        await send({"type": "websocket.close", "code": WEBSOCKET_POLICY_VIOLATION})
        return
    headers = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in refusal.headers]
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": refusal.body})


def _django_script_name() -> str | None:
    """``FORCE_SCRIPT_NAME`` when this process runs a configured Django. Whatever sits between
    this wrapper and Django (its static files handler, channels, an error reporter) hides
    Django's handler, so its presence in the process is what counts."""
    conf = sys.modules.get("django.conf")
    if conf is None or not conf.settings.configured:
        return None
    return getattr(conf.settings, "FORCE_SCRIPT_NAME", None)
