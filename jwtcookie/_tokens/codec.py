"""The codec: one object that issues and verifies tokens with the same options and keys.

Issuing lives in :mod:`jwtcookie._tokens.issuing`, verifying in
:mod:`jwtcookie._tokens.verifying`; what both read, in :mod:`jwtcookie._tokens.rules`.
"""

from __future__ import annotations

from jwtcookie._tokens.issuing import TokenIssuer
from jwtcookie._tokens.rules import Diagnosis, KeyringState, Verified, span
from jwtcookie._tokens.verifying import TokenVerifier

__all__ = ["Diagnosis", "KeyringState", "TokenCodec", "Verified", "span"]


class TokenCodec(TokenIssuer, TokenVerifier):
    """Everything that signs or reads a token, built once from the middleware's options."""
