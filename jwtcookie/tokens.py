"""Issuing and verifying tokens, the renewal decision, and a bounded cache of verified tokens.

PyJWT's JWS layer checks the signature with the algorithm pinned by the key (see
:mod:`jwtcookie.jws`). The claims are checked here with PyJWT's own rules: ``exp`` and
``iat`` required, ``iss`` exact, ``aud`` as ``jwt.decode`` reads it, ``sub``/``jti`` strings,
``exp <= now`` expired, ``iat``/``nbf > now + leeway`` not yet valid. Leeway absorbs an
issuer whose clock runs ahead of ours; it never keeps an expired token alive. Time is read
from the injected clock, because a cached token must be re-checked on every hit anyway.
"""

from __future__ import annotations

import math
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import jwt

from jwtcookie.jws import make_jws, read_token, sign
from jwtcookie.keys import Key, Keyring
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
    """A verified token's claims with its time limits worked out once (a cache entry)."""

    __slots__ = ("claims", "expires_at", "not_before", "renew_at", "scopes", "user")

    def __init__(
        self, claims: Mapping[str, Any], expires_at: float, not_before: float, renew_at: float
    ) -> None:
        self.claims = claims
        self.expires_at = expires_at  # the first instant it is no longer accepted
        self.not_before = not_before  # the first instant it is accepted
        self.renew_at = renew_at  # after this instant a request renews it
        self.user = TokenUser(claims)
        self.scopes = scopes_for(claims)


class KeyedCaches:
    """A keyring with the tokens verified and renewed under it, swapped as one on rotation.

    A verification holds on to the one it started with, so a token checked with a dropped key
    while ``rotate_keys`` runs lands in the discarded cache, never in the new one.
    """

    __slots__ = ("generation", "keyring", "renewed", "verified")

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        # A keyring that drops keys at run time (jwtcookie.jwks.RemoteKeyring) counts its
        # drops; what was verified before one is forgotten, as rotate_keys would.
        self.generation: int | None = getattr(keyring, "generation", None)
        self.verified: OrderedDict[str, Verified] = OrderedDict()
        self.renewed: OrderedDict[str, tuple[str, float]] = OrderedDict()


class TokenCodec:
    """Everything that signs or reads a token, built once from the middleware's options."""

    def __init__(
        self,
        keyring: Keyring,
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
        self.keys = KeyedCaches(keyring)
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

    # -- issuing ---------------------------------------------------------------------------

    def issue(self, claims: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
        """A fresh token for ``claims`` and the claims it carries (new ``iat``, ``exp``, ``jti``).

        ``sid`` names the session: a string one in ``claims`` is kept (renewal carries it over,
        so revoking a session also refuses a copy taken before the last renewal); else a new
        session starts. Claims this codec would refuse on the way back raise ``ValueError``.
        """
        if not isinstance(claims, Mapping):
            raise TypeError(f"jwtcookie: claims are a mapping, not {type(claims).__name__}.")
        payload = self._payload(claims, auth_time=None)
        problem = self._problem(payload)
        if problem is not None:
            raise ValueError(f"jwtcookie: cannot issue this token: {problem}.")
        token = self._sign(payload)
        if len(token) > MAX_TOKEN_LENGTH:
            raise ValueError(
                f"jwtcookie: cannot issue this token: signed, it is {len(token)} characters, and "
                f"tokens over {MAX_TOKEN_LENGTH} are refused (a browser keeps about 4 KiB per "
                "cookie); put fewer or shorter claims in it."
            )
        return token, MappingProxyType(payload)

    def renew(self, token: str, verified: Verified) -> str | None:
        """A fresh token re-signed from ``verified``; racing requests share one for a moment.

        None when the fresh one would be too long to read back (a ``kid`` grew, say): the old
        token then lives out its time.
        """
        now = self.clock()
        renewed = self.keys.renewed
        recent = renewed.get(token)
        if recent is not None and 0 <= now - recent[1] < RENEWAL_REUSE_SECONDS:
            return recent[0]
        payload = self._payload(verified.claims, verified.claims.get("auth_time"))
        fresh = self._sign(payload)
        if len(fresh) > MAX_TOKEN_LENGTH:
            return None
        if len(token) <= MAX_CACHED_TOKEN_LENGTH:
            _bounded_put(renewed, token, (fresh, now), self.cache_size)
        return fresh

    def _payload(self, claims: Mapping[str, Any], auth_time: float | None) -> dict[str, Any]:
        now = int(self.clock())
        payload = {name: value for name, value in claims.items() if name not in TIME_CLAIMS}
        payload["iat"] = now
        payload["exp"] = now + self.max_age
        if isinstance(payload.get("sid"), str):
            payload["jti"] = secrets.token_urlsafe(12)
        else:  # a new session: both ids from one read of the system's random source
            ids = secrets.token_urlsafe(24)
            payload["jti"], payload["sid"] = ids[:16], ids[16:]
        if self.issuer is not None:
            payload["iss"] = self.issuer
        if self.audience is not None:
            payload["aud"] = self.audience
        if self.max_session_age is not None:
            started = int(auth_time) if auth_time is not None else now
            payload["auth_time"] = started
            payload["exp"] = min(payload["exp"], started + self.max_session_age)
        return payload

    def _problem(self, payload: Mapping[str, Any]) -> str | None:
        """Why verification would refuse ``payload`` (the claims' shape), or None."""
        for name in ("sub", "jti"):
            if name in payload and not isinstance(payload[name], str):
                kind = type(payload[name]).__name__
                return f"{name} must be a string (RFC 7519), not {kind}"
        if self.audience is None and payload.get("aud"):
            return (
                "it names an audience (aud) but the middleware has no audience=, and a token "
                "meant for an audience is refused as someone else's: pass audience= or drop aud"
            )
        for name in KIND_CLAIMS:
            if name in payload and payload[name] != ACCESS:
                return (
                    f"its {name} claim would say it is another kind of token than a login, "
                    f"and such tokens are refused: drop {name}, or make it {ACCESS!r}"
                )
        return None

    def _sign(self, payload: Mapping[str, Any]) -> str:
        key = self.keys.keyring.signing_key
        if key is None:
            raise RuntimeError(
                "jwtcookie: this keyring has no signing key (public keys only): it can verify "
                "tokens but not issue them."
            )
        headers: dict[str, Any] = {} if self.token_type is None else {"typ": self.token_type}
        if key.kid is not None:
            headers["kid"] = key.kid
        return sign(self._jws, payload, key.sign_with, key.algorithm, headers or None)

    # -- verifying ---------------------------------------------------------------------------

    def verify(self, token: str) -> Verified | Reason:
        """The verified token, or why it is refused (never an exception)."""
        keys = self.keys  # one keyring and its cache for the whole check (rotation swaps both)
        if keys.generation is not None and keys.generation != keys.keyring.generation:  # type: ignore[attr-defined]
            keys = self.keys = KeyedCaches(keys.keyring)  # it dropped a key since
        verified = keys.verified.get(token)
        if verified is None:
            outcome = self._decode(token, keys.keyring)
            if not isinstance(outcome, Verified):
                return outcome.reason
            verified = outcome
            if len(token) <= MAX_CACHED_TOKEN_LENGTH:
                _bounded_put(keys.verified, token, verified, self.cache_size)
        now = self.clock()
        if now >= verified.expires_at:
            return Reason.EXPIRED
        if now < verified.not_before:
            return Reason.INVALID
        return verified

    def diagnose(self, token: str) -> Verified | Refused:
        """What :meth:`verify` says, with the precise cause of a refusal (for logs and the CLI).

        Slower than ``verify`` (no cache); the cause never quotes the token or its signature.
        """
        outcome = self._decode(token, self.keys.keyring)
        if not isinstance(outcome, Verified):
            return outcome
        now = self.clock()
        claims = outcome.claims
        if now >= outcome.expires_at:
            if outcome.expires_at < float(claims["exp"]):
                started = _ago(now - float(claims["auth_time"]))
                return Refused(
                    Reason.EXPIRED,
                    f"the session began {started} ago, past max_session_age "
                    f"({span(self.max_session_age or 0)}): log in again",
                )
            return Refused(Reason.EXPIRED, f"expired {_ago(now - outcome.expires_at)} ago")
        if now < outcome.not_before:
            ahead = span(outcome.not_before + self.leeway - now)
            return Refused(
                Reason.INVALID,
                f"not valid yet: its iat/nbf is {ahead} ahead of this clock, more than "
                f"leeway ({self.leeway:g} s); are the two servers' clocks in step?",
            )
        return outcome

    def fetchable_kid(self, token: str) -> str | None:
        """The ``kid`` a refused token names, when the keyring can fetch keys (a JWKS URL)
        and does not hold that one yet: after fetching, the token is worth a second look."""
        keyring = self.keys.keyring
        if not hasattr(keyring, "refresh_for") or TOKEN_SHAPE.fullmatch(token) is None:
            return None
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except HOSTILE_INPUT:
            return None
        return kid if isinstance(kid, str) and keyring.find(kid) is None else None

    def should_renew(self, verified: Verified) -> bool:
        # A verify-only keyring (public keys) cannot sign: the issuing service renews.
        return self.clock() > verified.renew_at and self.keys.keyring.signing_key is not None

    def rotate(self, keyring: Keyring) -> None:
        """Use ``keyring`` from now on; what was verified or renewed under the old one is gone."""
        self.keys = KeyedCaches(keyring)

    def _decode(self, token: str, keyring: Keyring) -> Verified | Refused:
        if len(token) > MAX_TOKEN_LENGTH:
            return _invalid(f"it is {len(token)} characters, over {MAX_TOKEN_LENGTH}")
        if TOKEN_SHAPE.fullmatch(token) is None:
            return _invalid("it is not a compact JWT (three unpadded base64url segments)")
        key = None
        try:
            key = _key_for(token, keyring)
            if key is None:
                return _invalid("its header names no key (kid) this keyring holds")
            header, claims = read_token(self._jws, token, key.verify_with, key.algorithm)
        except jwt.InvalidSignatureError:
            return _invalid("bad signature: signed with another key, or altered")
        except jwt.InvalidAlgorithmError:
            pinned = key.algorithm if key is not None else "own"
            return _invalid(f"signed with another algorithm than the key's {pinned}")
        except HOSTILE_INPUT as error:  # what a malformed or forged token makes PyJWT/json raise
            return _invalid(f"malformed ({type(error).__name__})")
        problem = self._claims_problem(claims) or self._kind_problem(header, claims)
        if problem is not None:
            return _invalid(problem)
        return self._limits(claims)

    def _kind_problem(self, header: Mapping[str, Any], claims: Mapping[str, Any]) -> str | None:
        """Why a token that says it is another kind of token is no login (RFC 8725 §3.11).

        Never quotes the values: a claim's value stays out of the logs.
        """
        typ = header.get("typ")
        if self.token_type is not None:
            if not isinstance(typ, str) or media_type(typ) != self._typ:
                return f"its typ header is not the configured token_type {self.token_type!r}"
        elif typ is not None and (not isinstance(typ, str) or media_type(typ) != UNTYPED):
            return "its typ header says it is another kind of token than a login (typ JWT)"
        for name in KIND_CLAIMS:
            if name in claims and claims[name] != ACCESS:
                return f"its {name} claim says it is another kind of token than an access token"
        return None

    def _claims_problem(self, claims: Any) -> str | None:
        """PyJWT's claim rules, less the time claims (``_limits`` reads those)."""
        if not isinstance(claims, dict):
            return "its payload is not a JSON object"
        for name in ("exp", "iat"):
            if name not in claims:
                return f"it has no {name} claim, which every token here needs"
        if self.issuer is not None and claims.get("iss") != self.issuer:
            # Exact match: "https://a.example" is not "https://a.example.evil".
            return f"its iss is not the configured issuer {self.issuer!r}"
        for name in ("sub", "jti"):
            if name in claims and not isinstance(claims[name], str):
                return f"its {name} is not a string"
        audience = claims.get("aud")
        if self.audience is None:
            if audience:  # a token meant for some audience is not meant for us
                return "it names an audience (aud), and no audience= is configured here"
            return None
        if isinstance(audience, str):
            audience = [audience]
        if not (
            isinstance(audience, list)
            and all(isinstance(item, str) for item in audience)
            and self.audience in audience
        ):
            return f"its aud does not name the configured audience {self.audience!r}"
        return None

    def _limits(self, claims: dict[str, Any]) -> Verified | Refused:
        issued, expires = claims["iat"], claims["exp"]
        not_before, auth_time = claims.get("nbf"), claims.get("auth_time")
        for name, value in (("iat", issued), ("exp", expires)):
            if not _is_timestamp(value):
                return _invalid(f"its {name} is not a number of seconds")
        for name, value in (("nbf", not_before), ("auth_time", auth_time)):
            if value is not None and not _is_timestamp(value):
                return _invalid(f"its {name} is not a number of seconds")
        issued, expires = float(issued), float(expires)
        lifetime = expires - issued
        if lifetime <= 0:
            return _invalid("its exp is not after its iat")
        if lifetime > self.max_age + self.leeway:
            # We never issue such a token: a longer-lived one is someone else's.
            return _invalid(
                f"it lives {span(lifetime)} (exp - iat), longer than max_age "
                f"({span(self.max_age)}): it was not issued with these settings"
            )
        expires_at = expires  # never extended: leeway is for an issuer's clock, not a grace
        not_before = max(issued, float(not_before or issued)) - self.leeway
        capped = False  # at the session's cap already: a renewal could not extend it
        if self.max_session_age is not None:
            if auth_time is None:
                return _invalid("it has no auth_time, which max_session_age needs")
            cap = float(auth_time) + self.max_session_age
            capped = cap <= expires
            expires_at = min(expires_at, cap)
        renew_at = math.inf
        if self.renew_after is not None and not capped:
            # Renew once less than (1 - renew_after) of max_age is left (3.5 of 7 days), as
            # the contract says; a shorter-lived token from elsewhere is renewed at once.
            renew_at = expires - self.max_age * (1 - self.renew_after)
        return Verified(MappingProxyType(claims), expires_at, not_before, renew_at)


class Refused(NamedTuple):
    """Why a token is refused: the request's reason, and a sentence for the logs."""

    reason: Reason
    detail: str  # never quotes the token, its signature or its claims' values


def _invalid(detail: str) -> Refused:
    return Refused(Reason.INVALID, detail)


def span(seconds: float) -> str:
    """A duration a person reads at a glance: ``3 days``, ``5 hours``, ``40 s``."""
    for unit, size in (("days", 86400), ("hours", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{round(seconds / size, 1):g} {unit}"
    return f"{seconds:.0f} s"


def _ago(seconds: float) -> str:
    return span(max(seconds, 0))


def media_type(typ: str) -> str:
    """A ``typ`` as RFC 7515 §4.1.9 compares it: in any case, ``application/`` left out."""
    typ = typ.strip().lower()
    return typ.removeprefix("application/")


def _key_for(token: str, keyring: Keyring) -> Key | None:
    """The key named by the token's ``kid`` (the only header field that picks anything)."""
    if keyring.only_key is not None:
        return keyring.only_key
    kid = jwt.get_unverified_header(token).get("kid")
    return keyring.find(kid) if isinstance(kid, str) else None


def _is_timestamp(value: object) -> bool:
    """A JSON number a clock can be compared with: not a bool, a string, NaN or infinity."""
    # json.loads makes exact ints and floats (a bool's type is bool); the range check is
    # also false for NaN and the infinities.
    return type(value) in (int, float) and -1e12 < value < 1e12  # type: ignore[operator]


def _bounded_put(cache: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
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
