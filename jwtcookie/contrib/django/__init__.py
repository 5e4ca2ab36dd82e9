"""Django: ``JWTCookieMiddleware`` in ``settings.MIDDLEWARE``, configured by ``settings.JWTCOOKIE``.

::

    INSTALLED_APPS = [..., "jwtcookie.contrib.django"]  # system checks
    MIDDLEWARE = [..., "django.contrib.auth.middleware.AuthenticationMiddleware",
                  "jwtcookie.contrib.django.JWTCookieMiddleware", ...]
    JWTCOOKIE = {"secret": os.environ.get("JWT_SECRET")}

``request.user`` is then the token's user (Django's ``login_required``, templates' ``{{ user }}``,
DRF with :mod:`jwtcookie.contrib.drf`); :func:`login` and :func:`logout` set and delete the
cookie; :func:`force_login` logs a test client in; :func:`update_session_auth_hash` keeps the
login that changed its password. docs/django.md has the whole story.

The other way, wrapping the application Django gives you in ``wsgi.py`` or ``asgi.py``
(``JWTCookieMiddleware(get_wsgi_application(), secret=...)``), stays supported: there the
helpers below, :func:`current_user`, :func:`get_auth` and this module's ``@login_required``,
read what the core middleware put in the request.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

# Django ships no type hints (django-stubs adds them); `unused-ignore` keeps both cases clean.
from django.http import HttpRequest, JsonResponse  # type: ignore[import-untyped, unused-ignore]

from jwtcookie import access
from jwtcookie._request.responses import AUTHENTICATION_REQUIRED
from jwtcookie.auth import Auth
from jwtcookie.contrib.django.logins import (
    alogin,
    alogout,
    aupdate_session_auth_hash,
    force_login,
    login,
    logout,
    update_session_auth_hash,
)
from jwtcookie.contrib.django.middleware import JWTCookieMiddleware
from jwtcookie.contrib.django.users import ATTRIBUTE, DjangoTokenUser, RequestUser

__all__ = [
    "DjangoTokenUser",
    "JWTCookieMiddleware",
    "alogin",
    "alogout",
    "aupdate_session_auth_hash",
    "current_user",
    "force_login",
    "get_auth",
    "login",
    "login_required",
    "logout",
    "unauthorized",
    "update_session_auth_hash",
]

View = TypeVar("View", bound=Callable[..., Any])


def get_auth(request: HttpRequest) -> Auth:
    """The request's :class:`~jwtcookie.Auth` (``login``, ``logout``, ``reason``, ``claims``)."""
    return access.get_auth(request)


def current_user(request: HttpRequest) -> Any:
    """The token's :class:`~jwtcookie.TokenUser`; ``is_authenticated`` is false when anonymous.

    With the middleware in ``MIDDLEWARE``, ``request.user`` is the Django-shaped user.
    """
    return access.get_auth(request).user


def unauthorized() -> JsonResponse:
    """The answer ``login_required`` gives an anonymous request: 401 and a JSON error."""
    return JsonResponse({"error": AUTHENTICATION_REQUIRED}, status=401)


def _logged_in(request: HttpRequest) -> bool:
    """Whether the token logs the request in; with ``user_model``, to a user still active."""
    request_user = getattr(request, ATTRIBUTE, None)
    if isinstance(request_user, RequestUser):
        return request_user.token_user() is not None
    return access.get_auth(request).is_authenticated


async def _alogged_in(request: HttpRequest) -> bool:
    """:func:`_logged_in` for async views: the row is read with the async ORM."""
    request_user = getattr(request, ATTRIBUTE, None)
    if isinstance(request_user, RequestUser):
        return await request_user.atoken_user() is not None
    return access.get_auth(request).is_authenticated


def login_required(view: View) -> View:
    """Answer 401 ``{"error": "authentication required"}`` unless the token logs the request in
    (with ``"user_model": True``, to a user who still exists and is active).

    Unlike ``django.contrib.auth.decorators.login_required`` it never redirects (an API
    answers, a browser page can redirect itself). Works on plain and ``async def`` views.
    """
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not await _alogged_in(request):
                return unauthorized()
            return await view(request, *args, **kwargs)

        return cast(View, async_wrapper)

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not _logged_in(request):
            return unauthorized()
        return view(request, *args, **kwargs)

    return cast(View, wrapper)
