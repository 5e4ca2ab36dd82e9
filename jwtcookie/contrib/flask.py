"""Flask: ``current_user()`` in a view, ``@login_required`` on routes that need a login.

Wrap the WSGI app once (``app.wsgi_app = JWTCookieMiddleware(app.wsgi_app, ...)``); these
helpers only read what the middleware put in ``request.environ``. Nothing is stored on
``flask.g`` and no app context is needed beyond the request itself.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response, jsonify, request

from jwtcookie import access
from jwtcookie.auth import Auth

View = TypeVar("View", bound=Callable[..., Any])

AUTHENTICATION_REQUIRED = {"error": "authentication required"}


def get_auth() -> Auth:
    """The current request's :class:`~jwtcookie.Auth` (``login``, ``logout``, ``reason``)."""
    return access.get_auth(request.environ)


def current_user() -> Any:
    """The current request's user; ``current_user().is_authenticated`` is false when anonymous."""
    return get_auth().user


def unauthorized() -> tuple[Response, int]:
    """The answer ``login_required`` gives an anonymous request: 401 and a JSON error."""
    return jsonify(AUTHENTICATION_REQUIRED), 401


def login_required(view: View) -> View:
    """Answer 401 ``{"error": "authentication required"}`` unless the request is logged in.

    Works on plain and ``async def`` views. Put it below ``@app.route`` (closest to the view).
    """
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            if not get_auth().is_authenticated:
                return unauthorized()
            return await view(*args, **kwargs)

        return cast(View, async_wrapper)

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not get_auth().is_authenticated:
            return unauthorized()
        return view(*args, **kwargs)

    return cast(View, wrapper)
