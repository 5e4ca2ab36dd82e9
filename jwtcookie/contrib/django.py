"""Django: ``current_user(request)`` in a view, ``@login_required`` on views that need a login.

Wrap the handler Django gives you, in ``wsgi.py`` or ``asgi.py``::

    application = JWTCookieMiddleware(get_wsgi_application(), secret=...)
    application = JWTCookieMiddleware(get_asgi_application(), secret=...)

Under WSGI the user is in ``request.META["jwtcookie.user"]``; under ASGI it is in
``request.scope["user"]``. The helpers here find it either way. They never touch
``request.user``, which belongs to ``django.contrib.auth``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

# Django ships no type hints (django-stubs adds them); `unused-ignore` keeps both cases clean.
from django.http import HttpRequest, JsonResponse  # type: ignore[import-untyped, unused-ignore]

from jwtcookie import access
from jwtcookie.auth import Auth

View = TypeVar("View", bound=Callable[..., Any])

AUTHENTICATION_REQUIRED = {"error": "authentication required"}


def get_auth(request: HttpRequest) -> Auth:
    """The request's :class:`~jwtcookie.Auth` (``login``, ``logout``, ``reason``)."""
    return access.get_auth(request)


def current_user(request: HttpRequest) -> Any:
    """The request's user; its ``is_authenticated`` is false when nobody is logged in."""
    return access.get_auth(request).user


def unauthorized() -> JsonResponse:
    """The answer ``login_required`` gives an anonymous request: 401 and a JSON error."""
    return JsonResponse(AUTHENTICATION_REQUIRED, status=401)


def login_required(view: View) -> View:
    """Answer 401 ``{"error": "authentication required"}`` unless the request is logged in.

    Unlike ``django.contrib.auth.decorators.login_required`` it never redirects (an API
    answers, a browser page can redirect itself). Works on plain and ``async def`` views.
    """
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not access.get_auth(request).is_authenticated:
                return unauthorized()
            return await view(request, *args, **kwargs)

        return cast(View, async_wrapper)

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not access.get_auth(request).is_authenticated:
            return unauthorized()
        return view(request, *args, **kwargs)

    return cast(View, wrapper)
