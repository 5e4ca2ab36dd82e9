"""PyJWT's JWS layer with each HMAC key checked once, not on every request.

PyJWT's ``HMACAlgorithm.prepare_key`` refuses PEM, SSH and DER key material as an HMAC
secret, a check that costs about a quarter of a ``jwt.decode`` and half a ``jwt.encode``.
``Key.hmac`` runs that very check once, at start-up; the algorithms registered here then
use the checked bytes as they are. Signatures, algorithm pinning and header checks remain
PyJWT's (``PyJWS``); the claims are read by :mod:`jwtcookie._tokens.codec`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm

_HASHES = {
    "HS256": HMACAlgorithm.SHA256,
    "HS384": HMACAlgorithm.SHA384,
    "HS512": HMACAlgorithm.SHA512,
}


class _CheckedHMAC(HMACAlgorithm):
    """HMAC over a secret that ``Key.hmac`` already passed through PyJWT's own check."""

    def prepare_key(self, key: str | bytes) -> bytes:
        if not isinstance(key, bytes):
            raise TypeError("jwtcookie: HMAC keys reach the JWS layer as checked bytes.")
        return key


def make_jws() -> jwt.PyJWS:
    jws = jwt.PyJWS()
    for name, hash_function in _HASHES.items():
        jws.unregister_algorithm(name)
        jws.register_algorithm(name, _CheckedHMAC(hash_function))
    return jws


def sign(
    jws: jwt.PyJWS,
    claims: Mapping[str, Any],
    key: Any,
    algorithm: str,
    headers: dict[str, Any] | None,
) -> str:
    """A compact JWT for ``claims`` (JSON as ``jwt.encode`` writes it)."""
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return jws.encode(payload, key, algorithm=algorithm, headers=headers)


def read_token(
    jws: jwt.PyJWS, token: str, key: Any, algorithm: str
) -> tuple[Mapping[str, Any], Any]:
    """The header and the payload of a token whose signature ``key`` verifies under
    ``algorithm`` alone.

    Raises on any failure; the caller turns every exception into "invalid".
    """
    decoded = jws.decode_complete(token, key, algorithms=[algorithm])
    return decoded["header"], json.loads(decoded["payload"])
