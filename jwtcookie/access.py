"""One accessor for every framework: ``get_auth(request)`` finds the request's AuthState."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jwtcookie.state import AuthState
from jwtcookie.wsgi import STATE_KEY

SCOPE_KEY = "jwtcookie"


def get_auth(request: Any) -> AuthState:
    """The :class:`AuthState` of a request.

    ``request`` is a Flask, werkzeug, Starlette, FastAPI or Django request, a WSGI environ
    or an ASGI scope.
    """
    for holder in _holders(request):
        state = holder.get(STATE_KEY) or holder.get(SCOPE_KEY)
        if isinstance(state, AuthState):
            return state
    raise LookupError(
        "jwtcookie: this request did not pass through JWTCookieMiddleware; wrap the app "
        "(Flask: app.wsgi_app = JWTCookieMiddleware(app.wsgi_app, ...))."
    )


def current_user(request: Any) -> Any:
    """The request's user: a logged-in user, or one whose ``is_authenticated`` is false."""
    return get_auth(request).user


def _holders(request: Any) -> list[Mapping[str, Any]]:
    if isinstance(request, Mapping):
        return [request]
    holders = []
    for attribute in ("scope", "environ", "META"):
        holder = getattr(request, attribute, None)
        if isinstance(holder, Mapping):
            holders.append(holder)
    return holders
