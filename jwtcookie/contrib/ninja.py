"""Django Ninja: ``auth=JWTCookieAuth()`` on a ``NinjaAPI``, a router or an operation.

It reads what :class:`jwtcookie.contrib.django.JWTCookieMiddleware` found: ``request.auth``
is the token's user, and a request without a valid token is answered 401. Like Ninja's
``SessionAuth`` it makes Django's CSRF check on a request logged in by the cookie, unless the
middleware vouched for it (``Sec-Fetch-Site: same-origin``, a trusted origin), the token came
in an ``Authorization: Bearer`` header, or the operation is ``csrf_exempt``. OpenAPI shows it
as an API key in the cookie.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings  # type: ignore[import-untyped, unused-ignore]
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped, unused-ignore]
from ninja.errors import HttpError
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

from jwtcookie.contrib.django import JWTCookieMiddleware
from jwtcookie.contrib.django.config import Problem, configuration, middleware_position
from jwtcookie.contrib.django.users import request_user


class JWTCookieAuth(APIKeyCookie):
    """The token's user as Ninja's ``request.auth``."""

    def __init__(self, csrf: bool = True) -> None:
        try:
            self.param_name = configuration().settings.cookie_name  # OpenAPI's name for it
        except Problem as problem:
            raise ImproperlyConfigured(f"jwtcookie: {problem}") from None
        if middleware_position(settings.MIDDLEWARE, JWTCookieMiddleware) is None:
            raise ImproperlyConfigured(
                "jwtcookie: JWTCookieAuth reads what JWTCookieMiddleware found; add "
                "'jwtcookie.contrib.django.JWTCookieMiddleware' to settings.MIDDLEWARE."
            )
        super().__init__(csrf=csrf)

    def __call__(self, request: Any) -> Any:
        who = request_user(request)
        user = who.token_user()
        if user is None:
            return None
        if (
            self.csrf
            and who.from_cookie
            and not who.vouched
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request)
        ):
            raise HttpError(403, "CSRF check Failed")
        return user

    def _get_key(self, request: Any) -> str | None:
        return request.COOKIES.get(self.param_name)  # type: ignore[no-any-return]

    def authenticate(self, request: Any, key: str | None) -> Any:
        return self(request)
