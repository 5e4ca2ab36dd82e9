"""Flask, the Flask way: an extension, a ``current_user`` proxy, ``@login_required``.

    app = Flask(__name__)
    JWTCookie(app, secret=secret_from_env())   # or JWTCookie(settings=...).init_app(app)

    @app.get("/me")
    @login_required                            # 401 JSON unless logged in; () welcome too
    def me():
        return {"name": current_user.display_name}

The extension wraps ``app.wsgi_app`` (the middleware sits outside Flask, where it sets the
cookie on every response) and puts ``current_user`` in Jinja templates. These helpers read
only ``flask.request``; nothing is stored on ``flask.g``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast, overload

from flask import Flask, Response, jsonify, request
from werkzeug.local import LocalProxy

from jwtcookie import access
from jwtcookie._request.responses import AUTHENTICATION_REQUIRED
from jwtcookie.auth import Auth
from jwtcookie.middleware import JWTCookieMiddleware
from jwtcookie.settings import Settings
from jwtcookie.users import AnonymousUser, TokenUser

View = TypeVar("View", bound=Callable[..., Any])


class JWTCookie:
    """The Flask extension: ``JWTCookie(app, **options)`` or ``init_app(app)`` in a factory.

    Options are checked here, when the extension is made (``settings=`` takes a
    ``Settings``); ``app.extensions["jwtcookie"]`` is this object afterwards.
    """

    def __init__(
        self, app: Flask | None = None, *, settings: Settings | None = None, **options: Any
    ) -> None:
        if settings is not None and options:
            raise TypeError("jwtcookie: pass the options to Settings(...) or here, not both.")
        self.settings = settings if settings is not None else Settings(**options)
        self.middleware: JWTCookieMiddleware | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Wrap ``app.wsgi_app`` and give templates ``current_user``."""
        self.middleware = JWTCookieMiddleware(app.wsgi_app, settings=self.settings)
        setattr(app, "wsgi_app", self.middleware)  # noqa: B010 (mypy reads a method assignment)
        app.extensions["jwtcookie"] = self
        app.context_processor(_template_user)

    def issue(self, claims: Mapping[str, Any]) -> str:
        """A token for a client to keep itself (a bearer token), outside any request."""
        if self.middleware is not None:
            return self.middleware.issue(claims)
        return self.settings.codec(cache_size=0).issue(claims)[0]


def get_auth(req: Any = None) -> Auth:
    """The :class:`~jwtcookie.Auth` of ``req``, by default of the request being handled."""
    return access.get_auth(request if req is None else req)


def _current_user() -> TokenUser | AnonymousUser:
    return get_auth().user  # type: ignore[no-any-return]


# The request's user, anonymous or not: `current_user.is_authenticated`. It follows
# `get_auth().login(...)` and `.logout()` within the request.
current_user = cast("TokenUser | AnonymousUser", LocalProxy(_current_user))


def _template_user() -> dict[str, Any]:
    return {"current_user": current_user}


def unauthorized() -> tuple[Response, int]:
    """The answer ``login_required`` gives an anonymous request: 401 and a JSON error."""
    return jsonify({"error": AUTHENTICATION_REQUIRED}), 401


@overload
def login_required(view: View, /) -> View: ...
@overload
def login_required() -> Callable[[View], View]: ...
def login_required(view: View | None = None, /) -> View | Callable[[View], View]:
    """Answer 401 ``{"error": "authentication required"}`` unless the request is logged in.

    ``@login_required`` or ``@login_required()``; plain and ``async def`` views; below
    ``@app.route`` (closest to the view).
    """
    if view is None:
        return login_required
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
