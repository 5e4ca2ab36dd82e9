"""``JWTCookieMiddleware``: the one public class; it becomes the ASGI or the WSGI flavour.

Servers decide what an object is from its *class's* ``__call__`` (uvicorn's ``--interface
auto``, hypercorn), so each flavour is a real subclass with its own ``__call__``: the ASGI
one in :mod:`jwtcookie.asgi`, the WSGI one in :mod:`jwtcookie.wsgi`. They register
themselves here as they are defined, so this module never imports them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, overload

from jwtcookie.detect import Interface, detect_interface
from jwtcookie.keys import Keyring
from jwtcookie.policy import Policy
from jwtcookie.settings import SEVEN_DAYS, Hook, RevocationStore, Settings
from jwtcookie.users import Reason

# The options Settings takes, with their defaults: the middleware takes the same keywords.
OPTIONS = {
    name: parameter.default for name, parameter in inspect.signature(Settings).parameters.items()
}

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


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

    _flavours: ClassVar[dict[str, type[JWTCookieMiddleware]]] = {}

    def __init_subclass__(cls, *, interface: Interface, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        JWTCookieMiddleware._flavours[interface] = cls

    @_told_when_built_in_a_server()
    def __new__(cls, app: Any, **options: Any) -> JWTCookieMiddleware:
        if cls is not JWTCookieMiddleware:
            return super().__new__(cls)
        interface = options.get("interface")
        kind = interface if interface is not None else detect_interface(app)
        if kind not in cls._flavours:
            raise ValueError(f"jwtcookie: interface must be 'asgi' or 'wsgi', not {kind!r}.")
        return super().__new__(cls._flavours[kind])

    if TYPE_CHECKING:
        # Each flavour defines only its own __call__ (servers read the class's __call__);
        # to a type checker the public class is both an ASGI and a WSGI app.
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
        settings: Settings | None = None,  # instead of the options below, checked at import
        interface: Interface | None = None,  # "asgi"/"wsgi" when detection cannot tell
        secret: str | bytes | None = None,  # HMAC key; JWT_SECRET via secret_from_env()
        keys: Keyring | None = None,  # instead of secret: rotation and public keys
        algorithm: str = "HS256",  # with `secret`; the key pins it, the token never does
        secure: bool = True,  # Secure cookie; turn off only for plain-http localhost
        cookie_name: str | None = None,  # __Host-access_token when it can be: no sibling plants it
        max_age: int = SEVEN_DAYS,  # token life and cookie Max-Age
        path: str = "/",  # the cookie is sent to the whole site
        domain: str | None = None,  # host-only cookie unless shared with subdomains
        samesite: str = "Lax",  # sent on top-level navigation, not on cross-site POSTs
        partitioned: bool = False,  # CHIPS, for apps embedded in a third-party frame
        leeway: float = 10,  # seconds an issuer's clock may run ahead (iat/nbf); exp is exact
        issuer: str | None = None,  # required, exact `iss` when set
        audience: str | None = None,  # required `aud` when set; tokens with `aud` refused if not
        token_type: str | None = None,  # required `typ` header when set; other kinds refused always
        renew_after: float | None = 0.5,  # renew when less than 1-x of max_age is left
        max_session_age: int | None = None,  # absolute cap from login, across renewals
        cross_site_protection: bool | str = True,  # cross-site writes by our cookie; or "strict"
        double_submit: bool = False,  # also demand X-CSRF-Token == csrf_token cookie; needs JS
        trusted_origins: Iterable[str] = (),  # origins allowed to make cross-site requests
        bearer: bool = False,  # also read `Authorization: Bearer`; it wins over the cookie
        protected_paths: Iterable[str] = (),  # path prefixes answered 401 when anonymous
        load_user: Hook | None = None,  # claims -> user (None: anonymous); may refresh from DB
        is_revoked: Hook | None = None,  # claims -> bool; runs before accepting and renewing
        user_not_before: Hook | None = None,  # claims -> timestamp; older tokens are revoked
        revocations: RevocationStore | None = None,  # a shared store: logout() revokes there
        on_error: Callable[[Reason], Any] | None = None,  # told why a token was refused
        clock: Callable[[], float] = time.time,  # injectable for tests
        cache_size: int = 4096,  # verified tokens kept: ~2 KiB each, 10 KiB at most
    ) -> None:
        options = {name: value for name, value in locals().items() if name in OPTIONS}
        if settings is None:
            settings = Settings(**options)
        elif not isinstance(settings, Settings):
            raise TypeError("jwtcookie: settings= takes a jwtcookie.Settings.")
        elif changed := sorted(name for name, value in options.items() if value != OPTIONS[name]):
            raise TypeError(
                f"jwtcookie: pass the options to Settings(...) or here, not both "
                f"(got settings= and {', '.join(changed)})."
            )
        self._check(app, settings)
        self.app = app
        self._policy = Policy(settings)

    def _check(self, app: Any, settings: Settings) -> None:
        """What a flavour refuses to wrap: each one overrides it."""

    @property
    def settings(self) -> Settings:
        return self._policy.settings

    @property
    def cookie_name(self) -> str:
        """The login cookie's name (``__Host-access_token`` unless configured otherwise)."""
        return self._policy.cookies.name

    @property
    def keyring(self) -> Keyring:
        """The keys it verifies and signs with now (``rotate_keys`` changes them)."""
        return self._policy.codec.keys.keyring

    def issue(self, claims: Mapping[str, Any]) -> str:
        """A signed token for ``claims`` (for non-browser clients; browsers use ``login``)."""
        return self._policy.codec.issue(claims)[0]

    def set_cookie_header(self, token: str) -> str:
        """The Set-Cookie value that stores ``token`` with this middleware's attributes."""
        return self._policy.cookies.set_header(token)

    @property
    def delete_cookie_header(self) -> str:
        return self._policy.cookies.delete_header

    def cache_info(self) -> CacheInfo:
        """How many verified and renewed tokens are remembered now, and the bound on each."""
        keys = self._policy.codec.keys
        return CacheInfo(len(keys.verified), len(keys.renewed), self.settings.cache_size)

    def rotate_keys(self, keys: Keyring) -> None:
        """Switch to a new keyring at run time; tokens verified under the old one are forgotten."""
        if not isinstance(keys, Keyring):
            raise TypeError(
                f"jwtcookie: rotate_keys() takes a jwtcookie.Keyring, not {type(keys).__name__}; "
                "build one with Keyring([Key.hmac(new_secret, kid=...), ...])."
            )
        self._policy.codec.rotate(keys)
