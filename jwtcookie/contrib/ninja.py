"""Django Ninja: ``auth=JWTCookieAuth()`` on a ``NinjaAPI``, a router or an operation.

It reads what :class:`jwtcookie.contrib.django.JWTCookieMiddleware` found: ``request.auth``
is the token's user, and a request without a valid token is answered 401. Like Ninja's
``SessionAuth`` it makes Django's CSRF check on a request logged in by the cookie, unless the
middleware csrf_checked for it (``Sec-Fetch-Site: same-origin``, a trusted origin), the token came
in an ``Authorization: Bearer`` header, or the operation is ``csrf_exempt``. OpenAPI shows it
as an API key in the cookie.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings  # type: ignore[import-untyped, unused-ignore]
from ninja.errors import HttpError
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

from jwtcookie.contrib.django.users import request_user
from jwtcookie.settings import default_cookie_name


class JWTCookieAuth(APIKeyCookie):
    """The token's user as Ninja's ``request.auth``."""

    def __init__(self, csrf: bool = True) -> None:
        self.param_name = cookie_name()
        super().__init__(csrf=csrf)

    def __call__(self, request: Any) -> Any:
        who = request_user(request)
        user = who.token_user()
        if user is None:
            return None
        if (
            self.csrf
            and who.from_cookie
            and not who.csrf_checked
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request)
        ):
            raise HttpError(403, "CSRF check Failed")
        return user

    def _get_key(self, request: Any) -> str | None:
        return request.COOKIES.get(self.param_name)  # type: ignore[no-any-return]

    def authenticate(self, request: Any, key: str | None) -> Any:
        return self(request)


def cookie_name() -> str:
    """The cookie's name as ``JWTCOOKIE`` gives it, without checking the rest: an API is built
    as its URLs are imported, and ``manage.py check`` imports them to report a wrong setting."""
    options = getattr(settings, "JWTCOOKIE", None)
    options = options if isinstance(options, Mapping) else {}
    name = options.get("cookie_name")
    if isinstance(name, str):
        return name
    secure, path = options.get("secure", True), options.get("path", "/")
    return default_cookie_name(secure=secure is not False, path=path, domain=options.get("domain"))
