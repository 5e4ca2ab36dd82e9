"""Issuing tokens: a login's, and a renewal's re-signed from a verified one."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from jwtcookie._tokens.jws import sign
from jwtcookie._tokens.rules import (
    ACCESS,
    KIND_CLAIMS,
    MAX_CACHED_TOKEN_LENGTH,
    MAX_TOKEN_LENGTH,
    RENEWAL_REUSE_SECONDS,
    TIME_CLAIMS,
    TokenRules,
    Verified,
    bounded_put,
)


class TokenIssuer(TokenRules):
    """Signs tokens the verifier, here or in another service, will accept."""

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
        renewed = self.state.renewed
        recent = renewed.get(token)
        if recent is not None and 0 <= now - recent[1] < RENEWAL_REUSE_SECONDS:
            return recent[0]
        payload = self._payload(verified.claims, verified.claims.get("auth_time"))
        fresh = self._sign(payload)
        if len(fresh) > MAX_TOKEN_LENGTH:
            return None
        if len(token) <= MAX_CACHED_TOKEN_LENGTH:
            bounded_put(renewed, token, (fresh, now), self.cache_size)
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
        key = self.state.keyring.signing_key
        if key is None:
            raise RuntimeError(
                "jwtcookie: this keyring has no signing key (public keys only): it can verify "
                "tokens but not issue them."
            )
        headers: dict[str, Any] = {} if self.token_type is None else {"typ": self.token_type}
        if key.kid is not None:
            headers["kid"] = key.kid
        return sign(self._jws, payload, key.sign_with, key.algorithm, headers or None)
