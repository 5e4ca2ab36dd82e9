"""``JWTCookieMiddleware``: the one public class; its options, validated once."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, overload

from jwtcookie.cookies import CookieWriter, cookie_prefix
from jwtcookie.detect import Interface, detect_interface
from jwtcookie.double_submit import DoubleSubmit
from jwtcookie.engine import Engine, Hook
from jwtcookie.keys import MAKE_A_SECRET, Key, Keyring
from jwtcookie.origin import OriginGuard
from jwtcookie.state import Reason
from jwtcookie.tokens import TokenCodec

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

SEVEN_DAYS = 7 * 24 * 3600


class JWTCookieMiddleware:
    """Stateless login for a WSGI or an ASGI app: a JWT in an HttpOnly cookie.

    Extracts the token from the cookie, verifies it, puts the user in the request
    (``scope["user"]`` on ASGI, ``environ["jwtcookie.user"]`` on WSGI) and renews the
    cookie once half its life has passed. Constructing it returns the ASGI or the WSGI
    flavour, whichever fits ``app``.
    """

    def __new__(
        cls, app: Any, *, interface: Interface | None = None, **options: Any
    ) -> JWTCookieMiddleware:
        if cls is not JWTCookieMiddleware:
            return super().__new__(cls)
        from jwtcookie.asgi import ASGIMiddleware
        from jwtcookie.wsgi import WSGIMiddleware

        kind = interface if interface is not None else detect_interface(app)
        if kind not in ("asgi", "wsgi"):
            raise ValueError(f"jwtcookie: interface must be 'asgi' or 'wsgi', not {kind!r}.")
        flavour = ASGIMiddleware if kind == "asgi" else WSGIMiddleware
        return super().__new__(flavour)

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

    def __init__(
        self,
        app: Any,
        *,
        secret: str | bytes | None = None,  # HMAC key; JWT_SECRET via secret_from_env()
        keys: Keyring | None = None,  # instead of secret: rotation and public keys
        algorithm: str = "HS256",  # with `secret`; the key pins it, the token never does
        secure: bool = True,  # Secure cookie; turn off only for plain-http localhost
        cookie_name: str | None = None,  # __Host-access_token when it can be (below)
        max_age: int = SEVEN_DAYS,  # token life and cookie Max-Age
        path: str = "/",  # the cookie is sent to the whole site
        domain: str | None = None,  # host-only cookie unless shared with subdomains
        samesite: str = "Lax",  # sent on top-level navigation, not on cross-site POSTs
        partitioned: bool = False,  # CHIPS, for apps embedded in a third-party frame
        leeway: float = 10,  # seconds an issuer's clock may run ahead (iat/nbf); exp is exact
        issuer: str | None = None,  # required, exact `iss` when set
        audience: str | None = None,  # required `aud` when set; tokens with `aud` refused if not
        renew_after: float | None = 0.5,  # renew when less than 1-x of max_age is left
        max_session_age: int | None = None,  # absolute cap from login, across renewals
        cross_site_protection: bool = True,  # refuse cross-site POST/PUT/PATCH/DELETE
        double_submit: bool = False,  # also demand X-CSRF-Token == csrf_token cookie; needs JS
        trusted_origins: Iterable[str] = (),  # origins allowed to make cross-site requests
        bearer: bool = False,  # also read `Authorization: Bearer`; it wins over the cookie
        protected_paths: Iterable[str] = (),  # path prefixes answered 401 when anonymous
        load_user: Hook | None = None,  # claims -> user (None: anonymous); may refresh from DB
        is_revoked: Hook | None = None,  # claims -> bool; runs before accepting and renewing
        user_not_before: Hook | None = None,  # claims -> timestamp; older tokens are revoked
        on_error: Callable[[Reason], Any] | None = None,  # told why a token was refused
        clock: Callable[[], float] = time.time,  # injectable for tests
        cache_size: int = 4096,  # verified tokens kept: ~2 KiB each, 10 KiB at most
        interface: Interface | None = None,  # "asgi"/"wsgi" when detection cannot tell
    ) -> None:
        self.app = app
        keyring = _keyring(secret, keys, algorithm)
        if cookie_name is None:
            cookie_name = default_cookie_name(secure=secure, path=path, domain=domain)
        _check_cookie_scope(cookie_name, secure, path, domain)
        samesite = _samesite(samesite, secure)
        if partitioned and not secure:
            raise ValueError(
                "jwtcookie: partitioned=True needs secure=True (browsers drop it else)."
            )
        _check_numbers(max_age, leeway, renew_after, max_session_age, cache_size)
        self._check_hooks(load_user, is_revoked, user_not_before, on_error)
        codec = TokenCodec(
            keyring,
            max_age=max_age,
            leeway=leeway,
            issuer=issuer,
            audience=audience,
            renew_after=renew_after,
            max_session_age=max_session_age,
            clock=clock,
            cache_size=cache_size,
        )
        cookies = CookieWriter(
            cookie_name,
            max_age=max_age,
            path=path,
            domain=domain,
            secure=secure,
            httponly=True,
            samesite=samesite,
            partitioned=partitioned,
        )
        guard = OriginGuard(trusted_origins) if cross_site_protection else None
        csrf = DoubleSubmit(cookies) if double_submit else None
        self.engine = Engine(
            codec,
            cookies,
            guard,
            bearer=bearer,
            protected_paths=tuple(protected_paths),
            load_user=load_user,
            is_revoked=is_revoked,
            user_not_before=user_not_before,
            on_error=on_error,
            double_submit=csrf,
        )

    def _check_hooks(self, *hooks: object) -> None:
        """Overridden by the WSGI flavour, which cannot await an async hook."""

    def issue(self, claims: Mapping[str, Any]) -> str:
        """A signed token for ``claims`` (for non-browser clients; browsers use ``login``)."""
        return self.engine.codec.issue(claims)

    def set_cookie_header(self, token: str) -> str:
        """The Set-Cookie value that stores ``token`` with this middleware's attributes."""
        return self.engine.cookies.set_header(token)

    @property
    def delete_cookie_header(self) -> str:
        return self.engine.cookies.delete_header

    def rotate_keys(self, keys: Keyring) -> None:
        """Switch to a new keyring at run time; tokens verified under the old one are forgotten."""
        self.engine.codec.rotate(keys)


def _keyring(secret: str | bytes | None, keys: Keyring | None, algorithm: str) -> Keyring:
    if keys is not None:
        if secret is not None:
            raise ValueError("jwtcookie: pass either secret= or keys=, not both.")
        if not isinstance(keys, Keyring):
            raise TypeError("jwtcookie: keys= takes a jwtcookie.Keyring.")
        return keys
    if secret is None or secret in ("", b""):
        raise ValueError(f"jwtcookie: no secret given; {MAKE_A_SECRET} (JWT_SECRET).")
    return Keyring([Key.hmac(secret, algorithm=algorithm)])


def default_cookie_name(*, secure: bool, path: str, domain: str | None) -> str:
    """``access_token`` with the strongest prefix the cookie's attributes allow.

    ``__Host-`` (Secure, Path=/, no Domain) is the one a sibling subdomain cannot plant;
    ``__Secure-`` at least keeps a plain-http page from planting it.
    """
    if not secure:
        return "access_token"
    return "__Host-access_token" if path == "/" and domain is None else "__Secure-access_token"


def _check_cookie_scope(name: str, secure: bool, path: str, domain: str | None) -> None:
    """Enforce what the ``__Host-``/``__Secure-`` name prefixes promise the browser.

    Browsers match the prefixes without regard to case (RFC 6265bis), so this check does too.
    """
    if not name or any(char in name for char in ' \t=;,"\\') or not name.isascii():
        raise ValueError(f"jwtcookie: {name!r} is not a valid cookie name.")
    prefix = cookie_prefix(name)
    if prefix and not secure:
        raise ValueError(f"jwtcookie: a {prefix} cookie must be secure=True.")
    if prefix.lower() == "__host-" and (path != "/" or domain is not None):
        raise ValueError("jwtcookie: a __Host- cookie needs path='/' and no domain.")
    if not path.startswith("/"):
        raise ValueError("jwtcookie: the cookie path must start with '/'.")


def _samesite(samesite: str, secure: bool) -> str:
    value = samesite.title()
    if value not in ("Lax", "Strict", "None"):
        raise ValueError("jwtcookie: samesite must be 'Lax', 'Strict' or 'None'.")
    if value == "None" and not secure:
        raise ValueError("jwtcookie: samesite='None' needs secure=True (browsers drop it else).")
    return value


def _check_numbers(
    max_age: int,
    leeway: float,
    renew_after: float | None,
    max_session_age: int | None,
    cache_size: int,
) -> None:
    if not isinstance(max_age, int) or max_age <= 0:
        raise ValueError("jwtcookie: max_age is a positive number of seconds.")
    if not 0 <= leeway <= 300:
        raise ValueError("jwtcookie: leeway is clock skew in seconds, between 0 and 300.")
    if renew_after is not None and not 0 < renew_after < 1:
        raise ValueError("jwtcookie: renew_after is a fraction of max_age, 0 < x < 1.")
    if max_session_age is not None and max_session_age <= 0:
        raise ValueError("jwtcookie: max_session_age is a positive number of seconds.")
    if cache_size < 0:
        raise ValueError("jwtcookie: cache_size cannot be negative (0 turns the cache off).")
