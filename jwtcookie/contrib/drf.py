"""Django REST Framework: ``JWTCookieAuthentication`` for ``DEFAULT_AUTHENTICATION_CLASSES``.

It reads what :class:`jwtcookie.contrib.django.JWTCookieMiddleware` found (the middleware
must be in ``MIDDLEWARE``): ``request.user`` is the token's user (a ``User`` row with
``"user_model": True``), ``request.auth`` the request's :class:`~jwtcookie.Auth` (``claims``,
``scopes``, ``session_id``). Without a valid token it authenticates nobody, and DRF answers
a view that needs a user with 401 and ``WWW-Authenticate`` (listed first, it names the scheme).

CSRF, as DRF's ``SessionAuthentication`` does it: a request logged in by the *cookie* must
pass Django's CSRF check (``X-CSRFToken``), or be one the middleware csrf_checked for (the browser
sent ``Sec-Fetch-Site: same-origin``, or it comes from one of ``trusted_origins``). A token in
an ``Authorization: Bearer`` header (``"bearer": True``) is no ambient credential and needs
no CSRF check, as with DRF's ``TokenAuthentication``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions  # type: ignore[import-untyped, unused-ignore]
from rest_framework.authentication import (  # type: ignore[import-untyped, unused-ignore]
    BaseAuthentication,
    CSRFCheck,
)

from jwtcookie.contrib.django.users import request_user


class JWTCookieAuthentication(BaseAuthentication):  # type: ignore[misc]  # DRF ships no type hints
    """The token's user and Auth as DRF's ``request.user`` and ``request.auth``."""

    www_authenticate_realm = "api"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        who = request_user(request._request)
        user = who.token_user()
        if user is None:
            return None
        if who.from_cookie:
            self.enforce_csrf(request)
        return user, who.auth

    def enforce_csrf(self, request: Any) -> None:
        """Django's CSRF check, as ``SessionAuthentication.enforce_csrf`` makes it; a request
        the middleware csrf_checked for is marked done and passes."""
        check = CSRFCheck(lambda request: None)
        check.process_request(request)  # reads the CSRF cookie into request.META
        reason = check.process_view(request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")

    def authenticate_header(self, request: Any) -> str:
        """``WWW-Authenticate``: ``Bearer`` when that header is accepted, else ``Cookie``."""
        scheme = "Bearer" if request_user(request._request).bearer else "Cookie"
        return f'{scheme} realm="{self.www_authenticate_realm}"'
