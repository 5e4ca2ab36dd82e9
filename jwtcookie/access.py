"""One accessor for every framework: ``get_auth(request)`` finds the request's :class:`Auth`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jwtcookie.auth import ENVIRON_AUTH, SCOPE_AUTH, Auth


def get_auth(request: Any) -> Auth:
    """The :class:`Auth` of a request.

    ``request`` is a Flask, werkzeug, Starlette, FastAPI or Django request, a WSGI environ
    or an ASGI scope.
    """
    for holder in _holders(request):
        auth = holder.get(ENVIRON_AUTH) or holder.get(SCOPE_AUTH)
        if isinstance(auth, Auth):
            return auth
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
