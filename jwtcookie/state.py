"""What one request knows about its login: the user, the claims, why, and what to send back."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jwtcookie.engine import Engine
    from jwtcookie.tokens import Verified

EMPTY_CLAIMS: Mapping[str, Any] = MappingProxyType({})

# Claims that describe the token rather than the user; the default user leaves them out.
REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "auth_time", "sid"})


class Reason(str, Enum):
    """Why a request is (or is not) logged in. Stable strings: compare with ``==``."""

    OK = "ok"
    MISSING = "missing"  # no token at all
    EXPIRED = "expired"  # signed by us but past exp or the absolute session cap
    INVALID = "invalid"  # tampered, malformed, wrong algorithm or key, wrong iss/aud
    REVOKED = "revoked"  # is_revoked() said so, or issued before the user's not-before time
    REJECTED = "rejected"  # load_user() returned None

    def __str__(self) -> str:
        return self.value


class TokenUser(Mapping[str, Any]):
    """A logged-in user: Starlette's user protocol plus read-only access to its claims."""

    __slots__ = ("_claims", "_identity")

    def __init__(self, claims: Mapping[str, Any]) -> None:
        own = {key: value for key, value in claims.items() if key not in REGISTERED_CLAIMS}
        self._claims: Mapping[str, Any] = MappingProxyType(own)
        # `_id` (the Node tutorial's claim), else the standard subject `sub`.
        self._identity = str(claims.get("_id", claims.get("sub", "")))

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def display_name(self) -> str:
        name = self._claims.get("username")
        return str(name) if name is not None else self.identity

    @property
    def claims(self) -> Mapping[str, Any]:
        return self._claims

    def __getitem__(self, key: str) -> Any:
        return self._claims[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._claims)

    def __len__(self) -> int:
        return len(self._claims)

    def __bool__(self) -> bool:
        return True  # logged in, even when the token carries only registered claims

    def __repr__(self) -> str:
        return f"TokenUser(identity={self.identity!r})"


class AnonymousUser(Mapping[str, Any]):
    """The user of a request without a valid token: falsy ``is_authenticated``, no claims."""

    __slots__ = ()

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def identity(self) -> str:
        return ""

    @property
    def display_name(self) -> str:
        return ""

    @property
    def claims(self) -> Mapping[str, Any]:
        return EMPTY_CLAIMS

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "AnonymousUser()"


ANONYMOUS = AnonymousUser()


class Credentials:
    """Starlette's ``request.auth`` shape: ``@requires("authenticated")`` reads ``scopes``.

    The scopes are a tuple, so one object can serve every request with the same token.
    """

    __slots__ = ("scopes",)

    def __init__(self, scopes: tuple[str, ...] = ()) -> None:
        self.scopes = scopes


AUTHENTICATED = ("authenticated",)


def credentials_for(claims: Mapping[str, Any]) -> Credentials:
    """``authenticated`` plus the token's OAuth-style ``scope`` claim, when it has one."""
    extra = claims.get("scope")
    if isinstance(extra, str) and extra:
        return Credentials(AUTHENTICATED + tuple(extra.split()))
    return Credentials(AUTHENTICATED)


ANONYMOUS_CREDENTIALS = Credentials()


class AuthState:
    """Per-request login state, handed to the app; ``login``/``logout`` queue the cookie."""

    __slots__ = (
        "_claims",
        "_credentials",
        "_delete_bad_cookie",
        "_engine",
        "_outgoing",
        "_reason",
        "_renewal",
        "_started",
        "_token_refused",
        "_user",
    )

    def __init__(
        self,
        engine: Engine,
        user: Any = ANONYMOUS,
        claims: Mapping[str, Any] = EMPTY_CLAIMS,
        reason: Reason = Reason.MISSING,
        *,
        renewal: tuple[str, Verified] | None = None,
        delete_bad_cookie: bool = False,
        token_refused: bool = False,
        credentials: Credentials = ANONYMOUS_CREDENTIALS,
    ) -> None:
        self._engine = engine
        self._user = user
        self._claims = claims
        self._reason = reason
        self._renewal = renewal  # (old token, its verification) when the response renews it
        self._delete_bad_cookie = delete_bad_cookie
        self._token_refused = token_refused  # a token came, and was not good enough
        self._credentials = credentials
        self._outgoing: tuple[str, ...] | None = None  # queued by login()/logout()
        self._started = False

    @property
    def user(self) -> Any:
        """A :class:`TokenUser` (or what ``load_user`` returned), or the anonymous user."""
        return self._user

    @property
    def claims(self) -> Mapping[str, Any]:
        """The verified token's claims, registered ones included; empty when anonymous."""
        return self._claims

    @property
    def reason(self) -> Reason:
        return self._reason

    @property
    def is_authenticated(self) -> bool:
        return bool(self._user.is_authenticated)

    @property
    def session_id(self) -> str | None:
        """The login session (``sid``) every renewal carries over: revoke this at logout."""
        sid = self._claims.get("sid")
        return sid if isinstance(sid, str) else None

    @property
    def credentials(self) -> Credentials:
        """Starlette's ``request.auth``: ``scopes`` is ``("authenticated", ...)`` or empty."""
        return self._credentials

    @property
    def token_refused(self) -> bool:
        """Whether the request presented a token that was refused (``reason`` says why)."""
        return self._token_refused

    def login(self, claims: Mapping[str, Any]) -> str:
        """Sign a fresh token for ``claims``; the response sets it as the cookie."""
        self._check_not_started("login")
        signed = self._engine.login_claims(claims)
        token = self._engine.codec.issue(signed)
        self._outgoing = self._engine.set_headers(token, signed)
        return token

    def logout(self) -> None:
        """Make the response delete the cookie (same name, path and domain)."""
        self._check_not_started("logout")
        self._outgoing = self._engine.delete_headers

    def response_cookies(self, app_sets_cookie: Callable[[], bool]) -> tuple[str, ...]:
        """The Set-Cookie values the middleware adds to this response (often none)."""
        self._started = True
        if self._outgoing is not None:
            return self._outgoing
        if self._renewal is None and not self._delete_bad_cookie:
            return ()
        if app_sets_cookie():
            return ()  # the app's own login/logout stands as written
        if self._renewal is not None:
            token, verified = self._renewal
            fresh = self._engine.codec.renew(token, verified)
            return () if fresh is None else self._engine.set_headers(fresh, verified.claims)
        return self._engine.delete_headers

    def _check_not_started(self, action: str) -> None:
        if self._started:
            raise RuntimeError(
                f"jwtcookie: {action}() was called after the response headers were sent; "
                "call it before returning the response (or before start_response)."
            )

    def __repr__(self) -> str:
        return f"AuthState(user={self._user!r}, reason={self._reason.value!r})"
