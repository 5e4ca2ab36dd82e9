"""FastAPI dependencies: ``user = Depends(current_user)`` and ``user = Depends(require_user)``.

Wrap the application once (``app = JWTCookieMiddleware(FastAPI(...), ...)``, or
``app.add_middleware(JWTCookieMiddleware, ...)``); these dependencies read what the
middleware put in the ASGI scope. They take an ``HTTPConnection``, so they work in
HTTP routes and in WebSocket routes alike.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, WebSocketException, status
from starlette.requests import HTTPConnection

from jwtcookie import access, auth

AUTHENTICATION_REQUIRED = "authentication required"


def get_auth(connection: HTTPConnection) -> auth.Auth:
    """The request's :class:`~jwtcookie.Auth`, for ``login``/``logout`` in a route."""
    return access.get_auth(connection.scope)


def current_user(connection: HTTPConnection) -> Any:
    """The request's user; its ``is_authenticated`` is false when nobody is logged in."""
    return access.get_auth(connection.scope).user


def require_user(connection: HTTPConnection) -> Any:
    """The logged-in user, or 401 ``{"detail": "authentication required"}``.

    In a WebSocket route an anonymous connection is closed with 1008 (policy violation)
    instead; before ``accept()`` the server turns that into a 403 handshake response.
    """
    user = access.get_auth(connection.scope).user
    if user.is_authenticated:
        return user
    if connection.scope["type"] == "websocket":
        raise WebSocketException(
            code=status.WS_1008_POLICY_VIOLATION, reason=AUTHENTICATION_REQUIRED
        )
    raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=AUTHENTICATION_REQUIRED)


# Annotated shortcuts: `def route(user: CurrentUser)` reads like the type it is.
Auth = Annotated[auth.Auth, Depends(get_auth)]
CurrentUser = Annotated[Any, Depends(current_user)]
RequiredUser = Annotated[Any, Depends(require_user)]
