"""One accessor for every framework: ``get_auth(request)`` finds the request's :class:`Auth`.

The middleware puts the Auth in the WSGI environ or the ASGI scope; each framework's request
object keeps one of them under its own name: ``environ`` (Flask, werkzeug, Pyramid, Bottle),
``env`` (Falcon), ``scope`` (Starlette, FastAPI, Quart, Litestar, Sanic, BlackSheep, Falcon's
ASGI app), ``META`` (Django).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from jwtcookie.auth import ENVIRON_AUTH, SCOPE_AUTH, Auth

HOLDERS = ("scope", "environ", "env", "META")
FIXES = {
    "flask": "app.wsgi_app = JWTCookieMiddleware(app.wsgi_app, settings=...)",
    "werkzeug": "app.wsgi_app = JWTCookieMiddleware(app.wsgi_app, settings=...) (Flask)",
    "starlette": "app.add_middleware(JWTCookieMiddleware, settings=...)",
    "django": "'jwtcookie.contrib.django.JWTCookieMiddleware' in settings.MIDDLEWARE",
    "quart": "app.asgi_app = JWTCookieMiddleware(app.asgi_app, settings=...)",
    "falcon": "app = JWTCookieMiddleware(falcon.App(...), settings=...)",
    "litestar": "app = JWTCookieMiddleware(Litestar(...), settings=...)",
    "sanic": "app = JWTCookieMiddleware(Sanic(...), settings=...), served as ASGI",
    "blacksheep": "app = JWTCookieMiddleware(Application(...), settings=...)",
    "pyramid": "app = JWTCookieMiddleware(config.make_wsgi_app(), settings=...)",
    "bottle": "app = JWTCookieMiddleware(bottle.default_app(), settings=...)",
}
GENERIC_FIX = "app = JWTCookieMiddleware(app, settings=...) around the outermost app"


def get_auth(request: Any) -> Auth:
    """The :class:`Auth` of a request: a framework's request object, an environ or a scope.

    Raises ``LookupError`` when the request did not pass through the middleware (naming the
    framework's way to add it), ``TypeError`` when ``request`` is nothing it can read.
    """
    holders = _holders(request)
    for holder in holders or ():
        auth = holder.get(ENVIRON_AUTH) or holder.get(SCOPE_AUTH)
        if isinstance(auth, Auth):
            return auth
    if holders is None:
        raise TypeError(
            f"jwtcookie: get_auth() cannot read a {type(request).__name__}: pass the "
            "framework's request object (one with .scope, .environ, .env or .META), a WSGI "
            "environ or an ASGI scope."
        )
    raise LookupError(
        "jwtcookie: this request did not pass through JWTCookieMiddleware; add it: "
        f"{FIXES.get(_framework(request), GENERIC_FIX)}."
    )


def current_user(request: Any) -> Any:
    """The request's user: a logged-in user, or one whose ``is_authenticated`` is false."""
    return get_auth(request).user


def _framework(request: Any) -> str:
    """The top-level package of the request's class, looking through werkzeug's LocalProxy
    (Flask's and Quart's ``request``), whose own class is werkzeug's whatever it stands for."""
    current = getattr(request, "_get_current_object", None)
    if callable(current):
        with suppress(RuntimeError):  # no request in context: name the proxy's own package
            request = current()
    return type(request).__module__.partition(".")[0]


def _holders(request: Any) -> list[Mapping[str, Any]] | None:
    """The scope or environ mappings `request` holds; None when it is no request at all."""
    if isinstance(request, Mapping):
        return [request]
    holders = []
    is_request = False
    for attribute in HOLDERS:
        try:
            holder = getattr(request, attribute, None)
        except NotImplementedError:  # Sanic's request.scope on Sanic's own server (not ASGI)
            is_request = True
            continue
        if isinstance(holder, Mapping):
            holders.append(holder)
            is_request = True
    return holders if is_request else None
