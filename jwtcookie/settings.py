"""Every option of the middleware, checked once, when it is built, with what to do instead.

``Settings(...)`` takes the keyword options of ``JWTCookieMiddleware`` and refuses a mistake
with a ``TypeError`` or ``ValueError`` whose sentence says what to do. Build it at import time
and pass it in (``Middleware(JWTCookieMiddleware, settings=settings)``): Starlette and FastAPI
build their middleware stack at the first request, so options given there would only be
checked then. Each option is described, with the reason for its default, in ``Settings``'
docstring, which docs/options.md's tables are written from.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypedDict

from jwtcookie._request.cookies import cookie_prefix
from jwtcookie._request.interface import is_async_callable
from jwtcookie._request.origin import STRICT, check_origins
from jwtcookie._tokens.codec import TokenCodec, span
from jwtcookie.keys import MAKE_A_SECRET, Key, Keyring, KeySource, key_source
from jwtcookie.revocations import Standing, window_problem
from jwtcookie.users import Reason

SEVEN_DAYS = 7 * 24 * 3600
Hook = Callable[[Mapping[str, Any]], Any]
HOOKS = ("load_user", "is_revoked", "user_not_before", "on_error")
_COOKIE_NAME_FORBIDDEN = ' \t=;,"\\'


class Settings:
    """The middleware's options, validated; ``JWTCookieMiddleware(app, settings=...)`` takes it.

    Each option is described here, and only here: docs/options.md's tables are written from
    these entries and the signature's defaults by ``python scripts/options_table.py``.

    Args:
        secret: The HMAC key. A ``str`` means its UTF-8 bytes (as Node's ``jsonwebtoken`` reads a
            string secret; never hex-decoded), ``bytes`` are used as they are. It must be at least
            as long as the hash: 32 bytes for HS256, 48 for HS384, 64 for HS512 (RFC 7518 §3.2); a
            shorter or missing one is refused. Make one with ``openssl rand -hex 64``;
            ``jwtcookie.secret_from_env("JWT_SECRET")`` reads and checks it. There is no default
            because a guessed secret is no secret.
        keys: A ``jwtcookie.Keyring`` instead of ``secret``: several keys named by ``kid`` (rotation
            without logging anyone out), asymmetric keys (``Key.from_pem``, ``Key.from_pem_files``),
            a verify-only keyring from a JWKS document (``Keyring.from_jwks``), or one that fetches
            it from the issuer's URL (``jwtcookie.jwks.RemoteKeyring``, docs/scaling-out.md).
            Passing both ``secret`` and ``keys`` is refused.
        algorithm: The HMAC algorithm for ``secret``: ``HS256``, ``HS384`` or ``HS512``. Each key is
            pinned to one algorithm and the token's own header never chooses it, so ``none`` and key
            confusion (an RS256 public key used as an HS256 secret) cannot happen. HS256 is what
            other services sharing the secret most likely speak.
        secure: The ``Secure`` attribute: the browser sends the cookie over https only. Turn it off
            only for plain-http development on localhost.
        cookie_name: The cookie's name: the one read from requests and written in ``Set-Cookie``.
            Unset, it is ``access_token`` with the strongest prefix the other options allow:
            ``__Host-access_token`` with ``secure=True``, no ``domain`` and ``path="/"`` (the
            defaults), because a ``__Host-`` cookie cannot be planted by a sibling subdomain or a
            plain-http page (cookie tossing, SECURITY.md); ``__Secure-access_token`` with a
            ``domain`` or another ``path``; ``access_token`` with ``secure=False``. A name you
            choose with a ``__Host-``/``__Secure-`` prefix (in any case: browsers ignore case there)
            is checked against ``secure``, ``path`` and ``domain``. Name it ``"access_token"`` only
            when a client or another service needs that name (the demos' API does), knowing what
            SECURITY.md says it exposes.
        max_age: The token's life (``exp = iat + max_age``) and the cookie's ``Max-Age``, kept equal
            so the browser forgets the cookie when the token expires. A token whose own life (``exp
            - iat``) is longer than ``max_age + leeway`` is refused: jwtcookie never issues one, so
            it is someone else's. A positive whole number of seconds.
        path: The ``Path`` attribute; must start with ``/``. The whole site sees the login.
        domain: The ``Domain`` attribute. Unset, the cookie is host-only: it is not sent to
            subdomains. Set it (``"example.com"``) only to share the login with them.
        samesite: ``Lax``, ``Strict`` or ``None`` (any case). ``Lax`` sends the cookie on top-level
            navigation from other sites (so a link into your app keeps the user logged in) but not
            on their cross-site POSTs, forms or fetches. ``None`` needs ``secure=True`` (browsers
            drop it otherwise).
        partitioned: The ``Partitioned`` attribute (CHIPS), for an app embedded in a third-party
            frame; browsers accept it only with ``Secure``, and a cookie sent into a third-party
            frame needs ``samesite="None"``.
        leeway: Seconds the clock of the server that signed a token may run ahead of the one reading
            it: a token whose ``iat`` or ``nbf`` is up to this far in the future is accepted.
            ``exp`` is exact: leeway is never a grace period for an expired session, and an expired
            token is never renewed. 0 to 300.
        issuer: When set, every token must carry exactly this ``iss``, and tokens issued here carry
            it. Use it when several services share a key but must not accept each other's tokens.
        audience: When set, every token must name this ``aud``, and tokens issued here carry it.
            When unset, a token that names any audience is refused (it was meant for someone else).
        token_type: Explicit typing (RFC 8725 §3.11): when set (``"session+jwt"``), tokens issued
            here carry it as their ``typ`` header, and every token must: one typed otherwise, or not
            typed, is refused. When unset, a token is accepted untyped or typed ``JWT`` (what Node's
            ``jsonwebtoken`` and PyJWT write) and refused when its ``typ`` names another kind
            (``verify-email+jwt``, ``at+jwt``). Either way, a token whose ``type``, ``token_type``
            or ``token_use`` claim (Flask-JWT-Extended, simplejwt, Cognito) is anything but
            ``"access"`` is refused: a refresh or ID token signed with the same key is no login. A
            printable ASCII media type; compared in any case, ``application/`` left out.
        renew_after: Renew when less than ``(1 - renew_after) * max_age`` of the token is left: with
            the defaults, a request after 3.5 days gets a fresh 7-day cookie (a shorter-lived token
            from another service is renewed at once). Half means an active user is never logged out,
            while a token is re-signed at most every 3.5 days. Between 0 and 1 exclusive; ``None``
            turns renewal off.
        max_session_age: An absolute cap, in seconds, from the login (the ``auth_time`` claim) that
            renewal cannot extend: once reached, the user logs in again. When set, new tokens carry
            ``auth_time``, and tokens without it are refused, so enabling it logs out tokens issued
            before.
        cross_site_protection: Refuse unsafe requests (POST, PUT, PATCH, DELETE and any method but
            GET, HEAD, OPTIONS, TRACE) that the browser marks as cross-site and that our cookie
            could authenticate, with ``403 {"error": "cross-origin request refused"}``, before the
            app runs: cross-site means ``Sec-Fetch-Site`` present and neither ``same-origin`` nor
            ``none``; or, without it, an ``Origin`` that does not name the request's own host and
            port (``Origin: null`` included; the scheme is not compared, as in Go: see below).
            Requests with neither header (curl, server-to-server) pass. The rule of Go 1.25's
            ``net/http.CrossOriginProtection``; it needs no token in forms and no client JavaScript.
            A cross-site request that carries no cookie of ours, or that a valid ``Authorization:
            Bearer`` token authenticates (``bearer=True``; it wins over the cookie), goes on to the
            app and its own CORS policy, but ``login()`` and ``logout()`` on it set and delete no
            cookie (no login CSRF, no forced logout; an INFO line says so); a ``logout()`` with a
            valid Bearer token still revokes that token's session (with ``revocations=``), since no
            other site's page can send the header. ``"strict"`` refuses every cross-site unsafe
            request, cookie or not (the demos' contract; an app that authenticates by another cookie
            of its own, which jwtcookie does not guard, wants it too). ``False`` turns the check
            off. WebSocket handshakes get the same check (cross-site WebSocket hijacking) and are
            closed with 1008.
        double_submit: Also demand, on an unsafe request that carries the login cookie, an
            ``X-CSRF-Token`` header equal to a readable ``csrf_token`` cookie whose value is signed
            into the token (OWASP's signed double-submit cookie). Login sets that cookie (the login
            cookie's attributes, less ``HttpOnly``; a ``__Host-`` prefix carries over). Off by
            default: the cross-site check above needs no page JavaScript, this does. A login cookie
            whose token carries no ``csrf`` claim (issued before the option was on, or elsewhere)
            counts as no login and is deleted.
        trusted_origins: Origins (``"https://app.example.com"``, ``"http://localhost:3000"``:
            scheme, host, optional port) allowed to make cross-site unsafe requests with the cookie,
            logging in and out included, for a front end served from another origin. A pattern
            ``"https://*.example.com"`` (as Django's ``CSRF_TRUSTED_ORIGINS``) trusts every origin
            of that scheme and port (443 here; ``"https://*.example.com:8443"`` names another) whose
            host is a subdomain of ``example.com`` at any depth, not ``example.com`` itself (list it
            too if it is yours); the origin must itself be well formed, ``scheme://host[:port]``
            with a host of DNS labels (letters, digits, inner hyphens), so
            ``https://evil.com#.example.com`` or ``https://.example.com`` is not trusted. A pattern
            is exactly ``scheme://*.domain[:port]``: one leading ``*.``, before a domain of at least
            two such labels; ``https://*.com``, ``https://a.*.example.com``, a wildcard IP address,
            a path, ``#``, ``?``, a space and a missing scheme are refused at construction, as is
            any malformed entry. A pattern trusts every subdomain: use it only where all of them are
            yours.
        bearer: Also read ``Authorization: Bearer <token>``, for non-browser clients. When the
            header is present it wins over the cookie, and a header token is never renewed into a
            cookie and its failure never deletes the cookie. Off by default: a browser app has no
            use for it.
        protected_paths: Path prefixes whose anonymous HTTP requests are answered ``401 {"error":
            "authentication required"}`` by the middleware itself, without relying on a framework's
            error handlers. A prefix matches itself and what lies below it at a ``/`` boundary:
            ``"/api/admin"`` covers ``/api/admin`` and ``/api/admin/users``, not
            ``/api/administrator``. The path matched is the one the app routes on: the ASGI path
            less the ``root_path`` (a ``Mount``, ``--root-path``), WSGI's ``PATH_INFO`` (decoded as
            UTF-8, as werkzeug and Django read it), Django's ``request.path_info`` (less
            ``FORCE_SCRIPT_NAME``). An anonymous WebSocket handshake to such a path is closed with
            1008 before the app runs. A CORS preflight (``OPTIONS`` with an ``Origin``), which never
            carries credentials, is left to the app's CORS policy.
        load_user: ``load_user(claims) -> user or None``, called for each valid token: its result
            becomes the request's user (refresh it from a database, say). ``None`` makes the request
            anonymous with reason ``rejected``, and the cookie is deleted.
        is_revoked: ``is_revoked(claims) -> bool``, called for each valid token before it is
            accepted (and so before it is renewed); true makes the request anonymous with reason
            ``revoked``. For a deny-list of revoked sessions (``claims.get("sid")``), say.
        user_not_before: ``user_not_before(claims) -> timestamp or None``: tokens issued (``iat``)
            before it are revoked. "Log out everywhere" stores one timestamp per user.
        revocations: A revocation store shared by every process that verifies tokens
            (``jwtcookie.redis.RedisRevocations(url)``; see docs/scaling-out.md). Every valid token
            is checked against it (a local lookup, no network call): a revoked session (``sid``) or
            a token issued before its user's "log out everywhere" time is refused as ``revoked``.
            ``logout()`` revokes the request's session there, so a copy of the cookie is refused
            everywhere too. While the store cannot answer (before its first full load, or once
            older than ``max_staleness``), requests are anonymous with reason ``unavailable`` and
            their cookies are kept; while it is not following Redis, tokens are accepted but never
            renewed. Its entries must outlive the tokens (``max_age + leeway``), checked here.
            Works beside ``is_revoked`` and ``user_not_before``.
        on_error: ``on_error(reason)``, called when a token that was presented is refused, with the
            ``Reason`` (``expired``, ``invalid``, ``revoked``, ``rejected``); never with the token
            or its claims. For metrics and logs. A plain function, or ``async def`` on ASGI
            (awaited).
        clock: The time source for issuing, verifying and renewing. Tests inject one and move it
            instead of sleeping.
        cache_size: How many verified tokens are kept, so a token seen again skips the signature
            check (its time limits are re-checked on every request). About 2 KiB each for a typical
            token (both tables), 10 KiB at most: tokens over 1 KiB are verified on every request
            instead of cached; oldest evicted first; ``0`` turns the cache off. It also bounds the
            table of recent renewals.
    """

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
        secret: str | bytes | None = None,
        keys: KeySource | None = None,
        algorithm: str = "HS256",
        secure: bool = True,
        cookie_name: str | None = None,
        max_age: int = SEVEN_DAYS,
        path: str = "/",
        domain: str | None = None,
        samesite: str = "Lax",
        partitioned: bool = False,
        leeway: float = 10,
        issuer: str | None = None,
        audience: str | None = None,
        token_type: str | None = None,
        renew_after: float | None = 0.5,
        max_session_age: int | None = None,
        cross_site_protection: bool | str = True,
        double_submit: bool = False,
        trusted_origins: Iterable[str] = (),
        bearer: bool = False,
        protected_paths: Iterable[str] = (),
        load_user: Hook | None = None,
        is_revoked: Hook | None = None,
        user_not_before: Hook | None = None,
        revocations: RevocationStore | None = None,
        on_error: Callable[[Reason], Any] | None = None,
        clock: Callable[[], float] = time.time,
        cache_size: int = 4096,
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
        check_origins(self.trusted_origins)
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
    ``**options``; the defaults stand in ``Settings``' signature, the descriptions in its
    docstring."""

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
    """``hasattr`` without running a property (a store's ``standing`` starts its thread)."""
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
