"""Verifying tokens, PyJWT's way: the signature with the algorithm the key pins (see
:mod:`jwtcookie._tokens.jws`), then the claims with PyJWT's own rules: ``exp`` and ``iat``
required, ``iss`` exact, ``aud`` as ``jwt.decode`` reads it, ``sub``/``jti`` strings,
``exp <= now`` expired, ``iat``/``nbf > now + leeway`` not yet valid. Leeway absorbs an
issuer whose clock runs ahead of ours; it never keeps an expired token alive. Time is read
from the injected clock, because a cached token must be re-checked on every hit anyway.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import jwt

from jwtcookie._tokens.jws import read_token
from jwtcookie._tokens.rules import (
    ACCESS,
    HOSTILE_INPUT,
    KIND_CLAIMS,
    MAX_CACHED_TOKEN_LENGTH,
    MAX_TOKEN_LENGTH,
    TOKEN_SHAPE,
    UNTYPED,
    Diagnosis,
    KeyringState,
    TokenRules,
    Verified,
    bounded_put,
    media_type,
    span,
)
from jwtcookie.keys import Key, KeySource
from jwtcookie.users import Reason


class TokenVerifier(TokenRules):
    """Says whether a token is valid, from a bounded cache of the ones verified already."""

    def verify(self, token: str) -> Verified | Reason:
        """The verified token, or why it is refused (never an exception)."""
        state = self.state  # one keyring and its cache for the whole check (rotation swaps both)
        if state.fetching is not None and state.generation != state.fetching.generation:
            state = self.state = KeyringState(state.keyring)
        verified = state.verified.get(token)
        if verified is None:
            outcome = self._decode(token, state.keyring)
            if not isinstance(outcome, Verified):
                return outcome.reason
            verified = outcome
            if len(token) <= MAX_CACHED_TOKEN_LENGTH:
                bounded_put(state.verified, token, verified, self.cache_size)
        now = self.clock()
        if now >= verified.expires_at:
            return Reason.EXPIRED
        if now < verified.not_before:
            return Reason.INVALID
        return verified

    def diagnose(self, token: str) -> Verified | Diagnosis:
        """What :meth:`verify` says, with the precise cause of a refusal (for logs and the CLI).

        Slower than ``verify`` (no cache); the cause never quotes the token or its signature.
        """
        outcome = self._decode(token, self.state.keyring)
        if not isinstance(outcome, Verified):
            return outcome
        now = self.clock()
        claims = outcome.claims
        if now >= outcome.expires_at:
            if outcome.expires_at < float(claims["exp"]):
                started = _ago(now - float(claims["auth_time"]))
                return Diagnosis(
                    Reason.EXPIRED,
                    f"the session began {started} ago, past max_session_age "
                    f"({span(self.max_session_age or 0)}): log in again",
                )
            return Diagnosis(Reason.EXPIRED, f"expired {_ago(now - outcome.expires_at)} ago")
        if now < outcome.not_before:
            ahead = span(outcome.not_before + self.leeway - now)
            return Diagnosis(
                Reason.INVALID,
                f"not valid yet: its iat/nbf is {ahead} ahead of this clock, more than "
                f"leeway ({self.leeway:g} s); are the two servers' clocks in step?",
            )
        return outcome

    def fetchable_kid(self, token: str) -> str | None:
        """The ``kid`` a refused token names, when the keyring can fetch keys (a JWKS URL)
        and does not hold that one yet: after fetching, the token is worth a second look."""
        keyring = self.state.fetching
        if keyring is None or TOKEN_SHAPE.fullmatch(token) is None:
            return None
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except HOSTILE_INPUT:
            return None
        return kid if isinstance(kid, str) and keyring.find(kid) is None else None

    def should_renew(self, verified: Verified) -> bool:
        # A verify-only keyring (public keys) cannot sign: the issuing service renews.
        return self.clock() > verified.renew_at and self.state.keyring.signing_key is not None

    def _decode(self, token: str, keyring: KeySource) -> Verified | Diagnosis:
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
        except HOSTILE_INPUT as error:
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

    def _limits(self, claims: dict[str, Any]) -> Verified | Diagnosis:
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
        capped = False
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


def _invalid(detail: str) -> Diagnosis:
    return Diagnosis(Reason.INVALID, detail)


def _ago(seconds: float) -> str:
    return span(max(seconds, 0))


def _key_for(token: str, keyring: KeySource) -> Key | None:
    """The key named by the token's ``kid`` (the only header field that picks anything)."""
    if keyring.only_key is not None:
        return keyring.only_key
    kid = jwt.get_unverified_header(token).get("kid")
    return keyring.find(kid) if isinstance(kid, str) else None


def _is_timestamp(value: object) -> bool:
    """A JSON number a clock can be compared with: not a bool, a string, NaN or infinity
    (``json.loads`` makes exact ints and floats; the range check is false for NaN and the
    infinities)."""
    return type(value) in (int, float) and -1e12 < value < 1e12  # type: ignore[operator]
