"""Signing and verification keys: one HMAC secret, or a keyring of keys named by ``kid``.

The key, never the token, chooses the algorithm: each key is pinned to one algorithm, so
a token cannot talk an RS256 public key into verifying an HS256 signature (key confusion)
and ``none`` can never be configured.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import jwt
from jwt.algorithms import HMACAlgorithm

HMAC_ALGORITHMS = {"HS256": 32, "HS384": 48, "HS512": 64}  # minimum key bytes (RFC 7518 3.2)
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# JWK members that hold private or secret key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1;
# RFC 8037 §2): a JWKS for verifiers carries none of them.
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAKE_A_SECRET = (
    "make one with `openssl rand -hex 64` (or `python -m jwtcookie secret`) and pass it from "  # noqa: S105 (a sentence, not a secret)
    "the environment"
)


def secret_from_env(name: str = "JWT_SECRET") -> str:
    """The HMAC secret from environment variable ``name``; refuses a missing or short one."""
    value = os.environ.get(name, "")
    if not value:
        raise ValueError(f"jwtcookie: environment variable {name} is not set; {MAKE_A_SECRET}.")
    check_hmac_secret(value.encode(), "HS256", source=f"environment variable {name}")
    return value


def check_hmac_secret(secret: bytes, algorithm: str, *, source: str = "secret") -> None:
    """Refuse a secret shorter than the hash it keys (RFC 7518 3.2)."""
    minimum = HMAC_ALGORITHMS[algorithm]
    if len(secret) < minimum:
        raise ValueError(
            f"jwtcookie: {source} is {len(secret)} bytes; {algorithm} needs at least {minimum} "
            f"bytes; {MAKE_A_SECRET}."
        )


@dataclass(frozen=True)
class Key:
    """One key pinned to one algorithm: the material to verify and, unless public, to sign with.

    ``sign_with`` is None for a verify-only (public) key. Neither reaches a log via ``repr``.
    """

    algorithm: str
    verify_with: Any = field(repr=False)  # the HMAC secret, or the public key
    sign_with: Any = field(default=None, repr=False)  # the HMAC secret, or the private key
    kid: str | None = None

    @classmethod
    def hmac(cls, secret: str | bytes, *, kid: str | None = None, algorithm: str = "HS256") -> Key:
        """An HMAC key; a ``str`` secret means its UTF-8 bytes (as in Node's jsonwebtoken)."""
        if algorithm not in HMAC_ALGORITHMS:
            raise ValueError(
                f"jwtcookie: {algorithm!r} is not an HMAC algorithm; use one of "
                f"{sorted(HMAC_ALGORITHMS)} with a secret, or Key.from_pem() for public keys."
            )
        if not isinstance(secret, (str, bytes)):
            raise TypeError("jwtcookie: the secret must be str or bytes; " + MAKE_A_SECRET + ".")
        raw = secret.encode() if isinstance(secret, str) else secret
        try:
            # PyJWT's own check (PEM, SSH, DER), once: the JWS layer then skips it per request.
            HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(raw)
        except jwt.InvalidKeyError as error:
            raise ValueError(
                "jwtcookie: that secret is a PEM, SSH or DER key; an asymmetric key goes to "
                f"Key.from_pem(algorithm='RS256', ...), an HMAC secret is random bytes: "
                f"{MAKE_A_SECRET}."
            ) from error
        check_hmac_secret(raw, algorithm)
        return cls(algorithm=algorithm, verify_with=raw, sign_with=raw, kid=kid)

    @classmethod
    def from_pem(
        cls,
        *,
        algorithm: str,
        private_key: str | bytes | None = None,
        public_key: str | bytes | None = None,
        kid: str | None = None,
    ) -> Key:
        """An asymmetric key from PEM text; give ``public_key`` alone to verify only."""
        algo = _asymmetric(algorithm)
        if private_key is None and public_key is None:
            raise ValueError("jwtcookie: Key.from_pem() needs private_key, public_key or both.")
        private: Any = algo.prepare_key(private_key) if private_key is not None else None
        public = algo.prepare_key(public_key) if public_key is not None else private.public_key()
        if not hasattr(public, "verify") or hasattr(public, "sign"):
            raise ValueError("jwtcookie: public_key must be a public key, not a private one.")
        return cls(algorithm=algorithm, verify_with=public, sign_with=private, kid=kid)

    @classmethod
    def from_pem_files(
        cls,
        *,
        algorithm: str,
        private_key_file: str | Path | None = None,
        public_key_file: str | Path | None = None,
        kid: str | None = None,
    ) -> Key:
        """:meth:`from_pem` reading the PEM text from files (for keys mounted as secrets)."""
        private = Path(private_key_file).read_bytes() if private_key_file else None
        public = Path(public_key_file).read_bytes() if public_key_file else None
        return cls.from_pem(algorithm=algorithm, private_key=private, public_key=public, kid=kid)

    def public_jwk(self) -> dict[str, Any]:
        """This key's public half as a JWK (never for an HMAC key: that would leak the secret)."""
        if self.algorithm in HMAC_ALGORITHMS:
            raise ValueError("jwtcookie: an HMAC secret has no public half to publish.")
        full = json.loads(_asymmetric(self.algorithm).to_jwk(self.verify_with))
        # A private key given as verifier writes its private members too: never publish them.
        jwk = {name: value for name, value in full.items() if name not in PRIVATE_JWK_MEMBERS}
        jwk.update(alg=self.algorithm, use="sig")
        if self.kid is not None:
            jwk["kid"] = self.kid
        return jwk


def _asymmetric(algorithm: str) -> Any:
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        raise ValueError(
            f"jwtcookie: {algorithm!r} is not an asymmetric algorithm; use one of "
            f"{sorted(ASYMMETRIC_ALGORITHMS)}."
        )
    try:
        return jwt.get_algorithm_by_name(algorithm)
    except NotImplementedError as error:
        raise ImportError(
            f"jwtcookie: {algorithm} needs the `cryptography` package: "
            "pip install 'jwtcookie[crypto]'"
        ) from error


@runtime_checkable
class KeySource(Protocol):
    """What ``keys=`` takes: a :class:`Keyring`, or a source that fetches its keys
    (``jwtcookie.jwks.RemoteKeyring``). ``find`` runs on every request: it reads the keys held,
    never the network."""

    signing_key: Key | None
    only_key: Key | None  # the one key of a source without kids: it verifies every token

    def find(self, kid: str) -> Key | None: ...
    def keys(self) -> list[Key]: ...


@runtime_checkable
class FetchingKeySource(KeySource, Protocol):
    """A key source that can fetch a ``kid`` it does not hold yet, and that counts in
    ``generation`` the times it withdrew a key (what was verified before is then forgotten)."""

    generation: int

    def refresh_for(self, kid: str) -> bool: ...
    async def refresh_for_async(self, kid: str) -> bool: ...


def key_source(keys: object, where: str) -> KeySource:
    """``keys`` once it is known to be a key source, checked when the middleware is built."""
    if not isinstance(keys, KeySource):
        raise TypeError(
            f"jwtcookie: {where} takes a jwtcookie.Keyring, not {type(keys).__name__}; build "
            "one with Keyring([Key.hmac(secret, kid=...), ...]), or pass a key source such as "
            "jwtcookie.jwks.RemoteKeyring."
        )
    return keys


class Keyring:
    """Verification keys by ``kid`` plus the one key that signs new tokens.

    Rotate a secret without logging anyone out: add the new key as the signer and keep the
    old one for verification until the longest token signed with it has expired.
    """

    __slots__ = ("_by_kid", "only_key", "signing_key")

    def __init__(self, keys: Sequence[Key], *, signing_kid: str | None = None) -> None:
        if isinstance(keys, Key) or not all(isinstance(key, Key) for key in keys):
            raise TypeError("jwtcookie: a Keyring takes a list of jwtcookie.Key objects.")
        if not keys:
            raise ValueError("jwtcookie: a Keyring needs at least one key.")
        kids = [key.kid for key in keys]
        if len(keys) > 1 and (None in kids or len(set(kids)) != len(kids)):
            raise ValueError("jwtcookie: with several keys each needs its own, distinct kid.")
        self._by_kid: Mapping[str | None, Key] = {key.kid: key for key in keys}
        self.only_key: Key | None = keys[0] if len(keys) == 1 and keys[0].kid is None else None
        if signing_kid is None:
            signers = [key for key in keys if key.sign_with is not None]
            if len(signers) > 1:
                raise ValueError("jwtcookie: several keys can sign; name one with signing_kid=.")
            self.signing_key: Key | None = signers[0] if signers else None
        else:
            if signing_kid not in self._by_kid:
                raise ValueError(f"jwtcookie: signing_kid {signing_kid!r} is not in the keyring.")
            self.signing_key = self._by_kid[signing_kid]
            if self.signing_key.sign_with is None:
                raise ValueError(f"jwtcookie: key {signing_kid!r} is public only; it cannot sign.")

    def keys(self) -> list[Key]:
        """Every key, the signing one among them."""
        return list(self._by_kid.values())

    def find(self, kid: str) -> Key | None:
        """The key a token's ``kid`` names, or None (an unknown kid is refused)."""
        return self._by_kid.get(kid)

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any] | str) -> Keyring:
        """A verify-only keyring from a JWKS document (public keys only, each with ``kid``)."""
        document = json.loads(jwks) if isinstance(jwks, str) else jwks
        keys = []
        for entry in _entries(document):
            algorithm = entry.get("alg")
            if not isinstance(algorithm, str):
                raise ValueError("jwtcookie: every JWKS key needs an `alg` to pin it.")
            if entry.get("kty") == "oct":
                raise ValueError("jwtcookie: a JWKS must not carry secret (oct) keys.")
            leaked = sorted(PRIVATE_JWK_MEMBERS.intersection(entry))
            if leaked:
                raise ValueError(
                    f"jwtcookie: JWKS key {entry.get('kid')!r} holds private key material "
                    f"({', '.join(leaked)}); a JWKS for verifiers carries public keys only. "
                    "Sign with Key.from_pem(private_key=...) instead."
                )
            verifier = _asymmetric(algorithm).from_jwk(json.dumps(dict(entry)))
            keys.append(Key(algorithm=algorithm, verify_with=verifier, kid=entry.get("kid")))
        return cls(keys)

    def jwks(self) -> dict[str, Any]:
        """The public keys as a JWKS document, to serve at ``/.well-known/jwks.json``."""
        return {"keys": [key.public_jwk() for key in self._by_kid.values()]}


def _entries(document: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    keys = document.get("keys")
    if not isinstance(keys, list) or not keys:
        raise ValueError("jwtcookie: a JWKS document is an object with a non-empty `keys` list.")
    return keys
