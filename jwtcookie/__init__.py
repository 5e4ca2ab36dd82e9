"""Stateless login for any WSGI or ASGI app: a JWT in an HttpOnly cookie."""

from __future__ import annotations

from jwtcookie.access import current_user, get_auth
from jwtcookie.auth import Auth
from jwtcookie.keys import Key, Keyring, secret_from_env
from jwtcookie.middleware import JWTCookieMiddleware
from jwtcookie.settings import Settings
from jwtcookie.users import AnonymousUser, Reason, TokenUser

__all__ = [
    "AnonymousUser",
    "Auth",
    "JWTCookieMiddleware",
    "Key",
    "Keyring",
    "Reason",
    "Settings",
    "TokenUser",
    "current_user",
    "get_auth",
    "secret_from_env",
]
__version__ = "0.2.0"
