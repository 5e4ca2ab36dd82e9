"""Who a request is: the logged-in user made from a token's claims, or the anonymous user.

A leaf module: tokens build a :class:`TokenUser` once per verified token, the per-request
:class:`~jwtcookie.auth.Auth` hands one to the app, and nothing here imports either.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any

EMPTY_CLAIMS: Mapping[str, Any] = MappingProxyType({})

REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "auth_time", "sid"})
AUTHENTICATED = ("authenticated",)


class Reason(str, Enum):
    """Why a request is (or is not) logged in. Stable strings: compare with ``==``.

    ``missing``: no token at all. ``expired``: signed by us but past ``exp`` or the absolute
    session cap. ``invalid``: tampered, malformed, wrong algorithm or key, wrong iss/aud.
    ``revoked``: ``is_revoked()`` said so, or issued before the user's not-before time.
    ``rejected``: ``load_user()`` returned None. ``unavailable``: could not be checked now (the
    revocation store cannot answer, or the issuer's new key is not fetched yet): anonymous for
    this request, and the cookie is kept.
    """

    OK = "ok"
    MISSING = "missing"
    EXPIRED = "expired"
    INVALID = "invalid"
    REVOKED = "revoked"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"

    def __str__(self) -> str:
        return self.value


class TokenUser(Mapping[str, Any]):
    """A logged-in user: Starlette's user protocol plus read-only access to its claims.

    Its claims leave out the registered ones (``iss``, ``exp``, ``sid``...), which describe the
    token rather than the user; its ``identity`` is ``_id`` (the Node tutorial's claim), else
    the standard subject ``sub``. It is true even when it has no claims of its own.
    """

    __slots__ = ("_claims", "_identity")

    def __init__(self, claims: Mapping[str, Any]) -> None:
        own = {key: value for key, value in claims.items() if key not in REGISTERED_CLAIMS}
        self._claims: Mapping[str, Any] = MappingProxyType(own)
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
        return True

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


def scopes_for(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """``authenticated`` plus the words of the token's OAuth-style ``scope`` claim, if any."""
    extra = claims.get("scope")
    if isinstance(extra, str) and extra:
        return AUTHENTICATED + tuple(extra.split())
    return AUTHENTICATED
