"""Every option of the middleware, checked once, when it is built, with what to do instead.

``Settings(...)`` takes the keyword options of ``JWTCookieMiddleware`` and refuses a mistake
with a ``TypeError`` or ``ValueError`` whose sentence says what to do. Build it at import time
and pass it in (``Middleware(JWTCookieMiddleware, settings=settings)``): Starlette and FastAPI
build their middleware stack at the first request, so options given there would only be
checked then. The full reference, with the reason for each default, is ``docs/options.md``.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypedDict

from jwtcookie._request.cookies import cookie_prefix
from jwtcookie._request.interface import is_async_callable
from jwtcookie._request.origin import STRICT, OriginGuard
from jwtcookie._tokens.codec import TokenCodec, span
from jwtcookie.keys import MAKE_A_SECRET, Key, Keyring, KeySource, key_source
from jwtcookie.revocations import Standing, window_problem
from jwtcookie.users import Reason

SEVEN_DAYS = 7 * 24 * 3600
Hook = Callable[[Mapping[str, Any]], Any]
HOOKS = ("load_user", "is_revoked", "user_not_before", "on_error")
_COOKIE_NAME_FORBIDDEN = ' \t=;,"\\'


class Settings:
    """The middleware's options, validated; ``JWTCookieMiddleware(app, settings=...)`` takes it."""

    __slots__ = (
        "audience",
        "bearer",
        "cache_size",
        "clock",
        "cookie_name",
        "cross_site_protection",
        "domain",
        "double_submit",
        "is_revoked",
        "issuer",
        "keyring",
        "leeway",
        "load_user",
        "max_age",
        "max_session_age",
        "on_error",
        "partitioned",
        "path",
        "protected_paths",
        "renew_after",
        "revocations",
        "samesite",
        "secure",
        "token_type",
        "trusted_origins",
        "user_not_before",
    )

    def __init__(
        self,
        *,
        secret: str | bytes | None = None,  # HMAC key; JWT_SECRET via secret_from_env()
        keys: KeySource | None = None,  # instead of secret: rotation and public keys
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
        for name, value in (
            ("secure", secure),
            ("partitioned", partitioned),
            ("double_submit", double_submit),
            ("bearer", bearer),
        ):
            _expect(isinstance(value, bool), f"{name} is True or False, not {value!r}")
        self.keyring = keyring_of(secret, keys, algorithm)
        self.secure = secure
        self.path = _path(path)
        self.domain = _domain(domain)
        self.cookie_name = _cookie_name(cookie_name, secure=secure, path=path, domain=domain)
        self.samesite = _samesite(samesite, secure)
        if partitioned and not secure:
            raise ValueError(
                "jwtcookie: partitioned=True needs secure=True (browsers drop it else)."
            )
        self.partitioned = partitioned
        self.max_age = _whole_seconds("max_age", max_age)
        self.max_session_age = (
            None if max_session_age is None else _whole_seconds("max_session_age", max_session_age)
        )
        self.leeway = _leeway(leeway)
        self.renew_after = _renew_after(renew_after)
        self.issuer = _optional_text("issuer", issuer)
        self.audience = _optional_text("audience", audience)
        self.token_type = _token_type(token_type)
        if not (isinstance(cross_site_protection, bool) or cross_site_protection == STRICT):
            mistake = ValueError if isinstance(cross_site_protection, str) else TypeError
            raise mistake(
                "jwtcookie: cross_site_protection is True (refuse cross-site writes that carry the "
                "cookie), 'strict' (refuse every cross-site write) or False, not "
                f"{cross_site_protection!r}."
            )
        self.cross_site_protection = cross_site_protection
        self.double_submit = double_submit
        self.trusted_origins = _strings("trusted_origins", trusted_origins, "'https://app.example'")
        OriginGuard(self.trusted_origins)  # refuses a malformed origin now
        self.bearer = bearer
        self.protected_paths = _path_prefixes(protected_paths)
        self.load_user = _hook("load_user", load_user, "(claims) -> a user, or None")
        self.is_revoked = _hook("is_revoked", is_revoked, "(claims) -> True or False")
        self.user_not_before = _hook(
            "user_not_before", user_not_before, "(claims) -> a timestamp, or None"
        )
        self.on_error = _hook("on_error", on_error, "(reason) -> None")
        self.revocations = _store(revocations)
        stores = [self.revocations] if self.revocations is not None else []
        for component in stores + _owners(self.is_revoked, self.user_not_before):
            problem = window_problem(component.window, max_age=self.max_age, leeway=self.leeway)
            if problem is not None:
                raise ValueError(f"jwtcookie: {problem}")
        _expect(callable(clock), "clock is a function returning the time, like time.time")
        self.clock = clock
        _expect(
            isinstance(cache_size, int) and not isinstance(cache_size, bool),
            f"cache_size is a whole number, not {cache_size!r}",
        )
        if cache_size < 0:
            raise ValueError("jwtcookie: cache_size cannot be negative (0 turns the cache off).")
        self.cache_size = cache_size

    def codec(
        self,
        *,
        clock: Callable[[], float] | None = None,
        cache_size: int | None = None,
        keyring: KeySource | None = None,
    ) -> TokenCodec:
        """A codec that signs and reads tokens as these settings say (the middleware's own);
        ``keyring`` stands for a middleware's keys after ``rotate_keys``."""
        return TokenCodec(
            self.keyring if keyring is None else keyring,
            max_age=self.max_age,
            leeway=self.leeway,
            issuer=self.issuer,
            audience=self.audience,
            renew_after=self.renew_after,
            max_session_age=self.max_session_age,
            clock=self.clock if clock is None else clock,
            cache_size=self.cache_size if cache_size is None else cache_size,
            token_type=self.token_type,
        )

    def store(self) -> RevocationStore | None:
        """The revocation store, however it was wired: ``revocations=``, or the store whose
        bound methods the hooks are (``**store.hooks()``). Its standing is what every token
        asks, and ``logout()`` revokes there, either way."""
        if self.revocations is not None:
            return self.revocations
        owners = _owners(self.is_revoked, self.user_not_before)
        return next((owner for owner in owners if not _missing(owner)), None)

    def async_hooks(self) -> list[str]:
        """The names of the hooks that are ``async def`` (only an ASGI app can await them)."""
        return [name for name in HOOKS if is_async_callable(getattr(self, name))]

    def describe(self) -> str:
        """The effective configuration in one line, for the start-up log (no secret in it)."""
        # A keyring that fetches its keys (a JWKS URL) may hold none yet.
        key = self.keyring.signing_key or next(iter(self.keyring.keys()), None)
        signs = "signs and verifies" if self.keyring.signing_key else "verifies only"
        attributes = ["HttpOnly", f"SameSite={self.samesite}", f"Path={self.path}"]
        if self.secure:
            attributes.append("Secure")
        if self.domain is not None:
            attributes.append(f"Domain={self.domain}")
        if self.partitioned:
            attributes.append("Partitioned")
        renewal = "off"
        if self.renew_after is not None:
            renewal = f"when less than {span(self.max_age * (1 - self.renew_after))} is left"
        parts = [
            f"cookie {self.cookie_name} ({'; '.join(attributes)})",
            f"{key.algorithm} key that {signs}" if key else "no key yet (fetched when needed)",
            f"tokens live {span(self.max_age)}, renewed {renewal}",
            "cross-site protection "
            + {True: "on", False: "OFF", STRICT: "strict"}[self.cross_site_protection],
        ]
        if self.token_type is not None:
            parts.append(f"every token typed {self.token_type}")
        if self.trusted_origins:
            parts.append(f"trusted origins {list(self.trusted_origins)}")
        if self.protected_paths:
            parts.append(f"protected paths {list(self.protected_paths)}")
        hooks = [name for name in HOOKS if getattr(self, name) is not None]
        if hooks:
            parts.append(f"hooks {', '.join(hooks)}")
        if self.revocations is not None:
            parts.append(f"revocations in a {type(self.revocations).__name__}")
        for flag in ("bearer", "double_submit"):
            if getattr(self, flag):
                parts.append(f"{flag} on")
        if self.max_session_age is not None:
            parts.append(f"sessions capped at {span(self.max_session_age)}")
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"Settings({self.describe()})"


class Options(TypedDict, total=False):
    """:class:`Settings`' keywords and their types, for a type checker reading the middleware's
    ``**options``; the defaults and their reasons stand in ``Settings``' signature alone."""

    secret: str | bytes | None
    keys: KeySource | None
    algorithm: str
    secure: bool
    cookie_name: str | None
    max_age: int
    path: str
    domain: str | None
    samesite: str
    partitioned: bool
    leeway: float
    issuer: str | None
    audience: str | None
    token_type: str | None
    renew_after: float | None
    max_session_age: int | None
    cross_site_protection: bool | str
    double_submit: bool
    trusted_origins: Iterable[str]
    bearer: bool
    protected_paths: Iterable[str]
    load_user: Hook | None
    is_revoked: Hook | None
    user_not_before: Hook | None
    revocations: RevocationStore | None
    on_error: Callable[[Reason], Any] | None
    clock: Callable[[], float]
    cache_size: int


class RevocationStore(Protocol):
    """What ``revocations=`` takes (``jwtcookie.redis.RedisRevocations`` is one).

    Its lookups run on every request, so they must be local and quick (no network call);
    ``revoke_session`` runs when ``logout()`` is called, and ``revoke_session_async``, when it
    has one, instead of it under ASGI.
    """

    @property
    def standing(self) -> Standing:
        """What it can answer now: ``jwtcookie.revocations.standing()`` decides, for all."""

    @property
    def window(self) -> float:
        """Seconds it keeps an entry after the entry's time (``math.inf``: for ever). The
        middleware refuses a store that forgets before its tokens expire."""

    def is_revoked(self, claims: Mapping[str, Any]) -> bool: ...
    def user_not_before(self, claims: Mapping[str, Any]) -> float | None: ...
    def revoke_session(self, session_id: str) -> object: ...


def keyring_of(secret: str | bytes | None, keys: KeySource | None, algorithm: str) -> KeySource:
    """The keyring ``secret=`` or ``keys=`` describes (one of them, never both)."""
    if keys is not None:
        if secret is not None:
            raise ValueError("jwtcookie: pass either secret= or keys=, not both.")
        return key_source(keys, "keys=")
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


def _cookie_name(name: str | None, *, secure: bool, path: str, domain: str | None) -> str:
    """The name given, or the default; what its prefix promises the browser is enforced.

    Browsers match the ``__Host-``/``__Secure-`` prefixes without regard to case (RFC 6265bis).
    """
    if name is None:
        return default_cookie_name(secure=secure, path=path, domain=domain)
    _expect(isinstance(name, str), f"cookie_name is a str, not {type(name).__name__}")
    if not name or not name.isascii() or any(char in name for char in _COOKIE_NAME_FORBIDDEN):
        raise ValueError(f"jwtcookie: {name!r} is not a valid cookie name.")
    prefix = cookie_prefix(name)
    if prefix and not secure:
        raise ValueError(f"jwtcookie: a {prefix} cookie must be secure=True.")
    if prefix.lower() == "__host-" and (path != "/" or domain is not None):
        raise ValueError("jwtcookie: a __Host- cookie needs path='/' and no domain.")
    return name


def _path(path: str) -> str:
    _expect(isinstance(path, str), f"path is a str such as '/', not {path!r}")
    if not path.startswith("/"):
        raise ValueError("jwtcookie: the cookie path must start with '/'.")
    return path


def _domain(domain: str | None) -> str | None:
    if domain is None:
        return None
    _expect(isinstance(domain, str), f"domain is a host name such as 'example.com', not {domain!r}")
    if not domain or any(char in domain for char in _COOKIE_NAME_FORBIDDEN + "/"):
        raise ValueError(f"jwtcookie: domain {domain!r} is not a host name such as 'example.com'.")
    return domain


def _samesite(samesite: str, secure: bool) -> str:
    _expect(isinstance(samesite, str), f"samesite is 'Lax', 'Strict' or 'None', not {samesite!r}")
    value = samesite.title()
    if value not in ("Lax", "Strict", "None"):
        raise ValueError("jwtcookie: samesite must be 'Lax', 'Strict' or 'None'.")
    if value == "None" and not secure:
        raise ValueError("jwtcookie: samesite='None' needs secure=True (browsers drop it else).")
    return value


def _whole_seconds(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"jwtcookie: {name} is a positive whole number of seconds, not {value!r}.")
    return value


def _leeway(leeway: float) -> float:
    _expect(_is_number(leeway), f"leeway is a number of seconds, not {leeway!r}")
    if not 0 <= leeway <= 300:
        raise ValueError("jwtcookie: leeway is clock skew in seconds, between 0 and 300.")
    return leeway


def _renew_after(renew_after: float | None) -> float | None:
    if renew_after is None:
        return None
    _expect(_is_number(renew_after), f"renew_after is a fraction such as 0.5, not {renew_after!r}")
    if not 0 < renew_after < 1:
        raise ValueError("jwtcookie: renew_after is a fraction of max_age, 0 < x < 1.")
    return renew_after


def _optional_text(name: str, value: str | None) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise TypeError(f"jwtcookie: {name} is a non-empty str or None, not {value!r}.")
    return value


def _token_type(token_type: str | None) -> str | None:
    """A ``typ`` such as ``"session+jwt"``: a media type, printable ASCII without spaces."""
    if token_type is None:
        return None
    _expect(
        isinstance(token_type, str),
        f"token_type is a str such as 'session+jwt', not {token_type!r}",
    )
    if not token_type or not all("!" <= char <= "~" for char in token_type):
        raise ValueError(
            f"jwtcookie: token_type {token_type!r} is not a media type such as 'session+jwt' "
            "(printable ASCII, no spaces)."
        )
    return token_type


def _strings(name: str, values: Iterable[str], example: str) -> tuple[str, ...]:
    """A tuple of strings from a list; a lone str (iterable by character) is a mistake."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"jwtcookie: {name} takes a list, such as [{example}], not one str.")
    _expect(isinstance(values, Iterable), f"{name} takes a list, such as [{example}]")
    items = tuple(values)
    for item in items:
        _expect(isinstance(item, str), f"{name} holds strings such as {example}, not {item!r}")
    return items


def _path_prefixes(prefixes: Iterable[str]) -> tuple[str, ...]:
    paths = _strings("protected_paths", prefixes, "'/api'")
    for path in paths:
        if not path.startswith("/"):
            raise ValueError(
                f"jwtcookie: protected_paths holds path prefixes starting with '/', such as "
                f"'/{path.lstrip('/')}', not {path!r}."
            )
    return paths


def _store(store: Any) -> RevocationStore | None:
    if store is None:
        return None
    missing = _missing(store)
    if missing:
        raise TypeError(
            f"jwtcookie: revocations= takes a revocation store such as "
            f"jwtcookie.redis.RedisRevocations(...); a {type(store).__name__} has no "
            f"{', '.join(missing)}."
        )
    return store  # type: ignore[no-any-return]


def _missing(store: object) -> list[str]:
    """What ``store`` lacks of a :class:`RevocationStore`."""
    return [
        name
        for name in ("is_revoked", "user_not_before", "revoke_session")
        if not callable(getattr(store, name, None))
    ] + [name for name in ("standing", "window") if not _has(store, name)]


def _owners(*hooks: Hook | None) -> list[Any]:
    """The objects behind hooks that are bound methods of a store (``**store.hooks()``):
    they keep a window too."""
    owners: list[Any] = []
    for hook in hooks:
        owner = getattr(hook, "__self__", None)
        if owner is not None and owner not in owners and _has(owner, "window"):
            owners.append(owner)
    return owners


def _has(thing: object, name: str) -> bool:
    """``hasattr`` without running a property (a store's ``stale`` starts its thread)."""
    try:
        inspect.getattr_static(thing, name)
    except AttributeError:
        return False
    return True


def _hook(name: str, hook: Any, shape: str) -> Any:
    if hook is not None and not callable(hook):
        raise TypeError(f"jwtcookie: {name} is a function {shape}, not {hook!r}.")
    return hook


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise TypeError(f"jwtcookie: {message}.")
