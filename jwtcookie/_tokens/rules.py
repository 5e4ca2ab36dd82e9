"""What issuing and verifying share: the options they apply, the keys in use with their
caches, what a verified token is, and why one is refused."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jwt

from jwtcookie._tokens.jws import make_jws
from jwtcookie.keys import FetchingKeySource, KeySource
from jwtcookie.users import Reason, TokenUser, scopes_for

TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time")
# Where peers write what kind of token a token is (RFC 8725 §3.11): Flask-JWT-Extended's
# `type`, djangorestframework-simplejwt's `token_type`, Amazon Cognito's `token_use`. A login
# cookie is an access token, which all three call "access".
KIND_CLAIMS = ("type", "token_type", "token_use")
ACCESS = "access"
UNTYPED = "jwt"  # the `typ` of a token that says only that it is a JWT (RFC 7519 §5.1)
MAX_TOKEN_LENGTH = 4096  # a browser keeps at most ~4 KiB per cookie; longer is hostile
# Longer tokens are verified on every request instead of cached, which bounds one cache
# entry (both caches) at about 10 KiB even for a token of many tiny claims; ~2 KiB typical.
MAX_CACHED_TOKEN_LENGTH = 1024
# Three unpadded base64url segments (RFC 7515 compact form). Anything else is refused before
# PyJWT sees it: older PyJWT releases accept padded spellings of one signature.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
RENEWAL_REUSE_SECONDS = 10  # requests racing with one old token share one fresh token
# What a hostile token can make PyJWT and the JSON reader raise: every PyJWT error, bad
# base64 or UTF-8 or JSON (ValueError and its kin), JSON nested too deep. Anything else is a
# bug of ours and propagates.
HOSTILE_INPUT = (jwt.PyJWTError, ValueError, RecursionError)


class Verified:
    """A verified token's claims with its time limits worked out once (a cache entry): the
    first instant it is no longer accepted (``expires_at``), the first it is
    (``not_before``), and the one after which a request renews it (``renew_at``)."""

    __slots__ = ("claims", "expires_at", "not_before", "renew_at", "scopes", "user")

    def __init__(
        self, claims: Mapping[str, Any], expires_at: float, not_before: float, renew_at: float
    ) -> None:
        self.claims = claims
        self.expires_at = expires_at
        self.not_before = not_before
        self.renew_at = renew_at
        self.user = TokenUser(claims)
        self.scopes = scopes_for(claims)


class KeyringState:
    """A keyring with the tokens verified and renewed under it, swapped as one on rotation.

    A verification holds on to the one it started with, so a token checked with a dropped key
    while ``rotate_keys`` runs lands in the discarded cache, never in the new one.
    """

    __slots__ = ("fetching", "generation", "keyring", "renewed", "verified")

    def __init__(self, keyring: KeySource) -> None:
        self.keyring = keyring
        self.fetching = keyring if isinstance(keyring, FetchingKeySource) else None
        self.generation = self.fetching.generation if self.fetching is not None else None
        self.verified: OrderedDict[str, Verified] = OrderedDict()
        self.renewed: OrderedDict[str, tuple[str, float]] = OrderedDict()


class TokenRules:
    """The token options and the keys in use: what issuing and verifying both read."""

    def __init__(
        self,
        keyring: KeySource,
        *,
        max_age: int,
        leeway: float,
        issuer: str | None,
        audience: str | None,
        renew_after: float | None,
        max_session_age: int | None,
        clock: Callable[[], float],
        cache_size: int,
        token_type: str | None = None,
    ) -> None:
        self.state = KeyringState(keyring)
        self.token_type = token_type
        self._typ = UNTYPED if token_type is None else media_type(token_type)
        self.max_age = max_age
        self.leeway = leeway
        self.issuer = issuer
        self.audience = audience
        self.renew_after = renew_after
        self.max_session_age = max_session_age
        self.clock = clock
        self.cache_size = cache_size
        self._jws = make_jws()

    @property
    def keyring(self) -> KeySource:
        """The keys it verifies and signs with now."""
        return self.state.keyring

    def rotate(self, keyring: KeySource) -> None:
        """Use ``keyring`` from now on; what was verified or renewed under the old one is gone."""
        self.state = KeyringState(keyring)


class Diagnosis(NamedTuple):
    """Why a token is refused: the request's reason, and a sentence for the logs."""

    reason: Reason
    detail: str  # never quotes the token, its signature or its claims' values


def span(seconds: float) -> str:
    """A duration a person reads at a glance: ``3 days``, ``5 hours``, ``40 s``."""
    for unit, size in (("days", 86400), ("hours", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{round(seconds / size, 1):g} {unit}"
    return f"{seconds:.0f} s"


def media_type(typ: str) -> str:
    """A ``typ`` as RFC 7515 §4.1.9 compares it: in any case, ``application/`` left out."""
    typ = typ.strip().lower()
    return typ.removeprefix("application/")


def bounded_put(cache: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    """Insert, evicting the oldest entries first, so memory stays bounded by ``limit``.

    An ``OrderedDict`` because its ``popitem(last=False)`` is O(1): finding a plain dict's
    first key walks over the holes earlier deletions left, thousands of them in a full cache.
    """
    if limit <= 0:
        return
    while len(cache) >= limit:
        try:
            cache.popitem(last=False)
        except KeyError:  # another thread emptied it first
            break
    cache[key] = value
