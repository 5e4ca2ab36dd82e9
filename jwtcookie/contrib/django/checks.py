"""Django system checks: a wrong ``settings.JWTCOOKIE`` or ``MIDDLEWARE`` is an error with a hint.

Registered by the app config (``"jwtcookie.contrib.django"`` in ``INSTALLED_APPS``), so
``manage.py check``, ``runserver``, ``migrate`` and ``test`` report them before anything
serves. The middleware raises the same configuration errors when Django builds it, so a
server (gunicorn and uvicorn run no checks) never starts with one.

- ``jwtcookie.E001``: ``JWTCOOKIE`` is missing (while the middleware is in ``MIDDLEWARE``)
- ``jwtcookie.E002``: ``JWTCOOKIE`` is not a dict
- ``jwtcookie.E003``: an option jwtcookie does not have (the hint names the closest)
- ``jwtcookie.E004``: an option's value is wrong (the core's sentence says what to do)
- ``jwtcookie.E005``: a hook's dotted path cannot be imported
- ``jwtcookie.E006``: both ``user_model`` and ``load_user``
- ``jwtcookie.E010``: the middleware comes before ``AuthenticationMiddleware``
- ``jwtcookie.E011``: ``django.contrib.auth`` is not in ``INSTALLED_APPS``
- ``jwtcookie.E012``: DRF's ``JWTCookieAuthentication`` is in use without the middleware
- ``jwtcookie.W001``: ``secure`` is off (``check --deploy`` only)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.apps import apps  # type: ignore[import-untyped, unused-ignore]
from django.conf import settings  # type: ignore[import-untyped, unused-ignore]
from django.core import checks  # type: ignore[import-untyped, unused-ignore]

from jwtcookie.contrib.django.config import SETTING, Problem, configuration, middleware_position
from jwtcookie.contrib.django.middleware import JWTCookieMiddleware

AUTHENTICATION_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
MIDDLEWARE = "jwtcookie.contrib.django.JWTCookieMiddleware"
DRF_AUTHENTICATION = "jwtcookie.contrib.drf.JWTCookieAuthentication"


def check_configuration(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``JWTCOOKIE``, the middleware's place, and what it needs installed."""
    position = middleware_position(settings.MIDDLEWARE, JWTCookieMiddleware)
    if position is None and not hasattr(settings, SETTING):
        return _drf_without_middleware()  # jwtcookie is not used here (or only wraps the app)
    found: list[checks.CheckMessage] = []
    try:
        configuration()
    except Problem as problem:
        found.append(checks.Error(problem.message, hint=problem.hint, id=problem.check_id))
    if position is None:
        return found + _drf_without_middleware()
    if not apps.is_installed("django.contrib.auth"):
        found.append(
            checks.Error(
                "JWTCookieMiddleware needs django.contrib.auth in INSTALLED_APPS.",
                hint="Add 'django.contrib.auth' and 'django.contrib.contenttypes': "
                "request.user is Django's AnonymousUser when nobody is logged in.",
                id="jwtcookie.E011",
            )
        )
        return found
    from django.contrib.auth.middleware import (  # type: ignore[import-untyped, unused-ignore]
        AuthenticationMiddleware,
    )

    authentication = middleware_position(settings.MIDDLEWARE, AuthenticationMiddleware)
    if authentication is not None and authentication > position:
        found.append(
            checks.Error(
                "JWTCookieMiddleware comes before AuthenticationMiddleware in MIDDLEWARE, "
                "which would replace the token's request.user with the session's.",
                hint=f"Put {MIDDLEWARE!r} right after {AUTHENTICATION_MIDDLEWARE!r}.",
                id="jwtcookie.E010",
            )
        )
    return found


def check_deployment(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``manage.py check --deploy``: the login cookie must not travel over plain http."""
    if middleware_position(settings.MIDDLEWARE, JWTCookieMiddleware) is None:
        return []
    try:
        secure = configuration().settings.secure
    except Problem:
        return []
    if secure:
        return []
    return [
        checks.Warning(
            "JWTCOOKIE['secure'] is False: the login cookie is sent over plain http too.",
            hint="Leave secure at its default, True, in production; turn it off only for "
            'plain-http development ("secure": not DEBUG).',
            id="jwtcookie.W001",
        )
    ]


def _drf_without_middleware() -> list[checks.CheckMessage]:
    rest_framework = getattr(settings, "REST_FRAMEWORK", None)
    if not isinstance(rest_framework, Mapping):
        return []
    if DRF_AUTHENTICATION not in rest_framework.get("DEFAULT_AUTHENTICATION_CLASSES", ()):
        return []
    return [
        checks.Error(
            f"{DRF_AUTHENTICATION} reads what JWTCookieMiddleware found; it is not in MIDDLEWARE.",
            hint=f"Add {MIDDLEWARE!r} to MIDDLEWARE, after {AUTHENTICATION_MIDDLEWARE!r}.",
            id="jwtcookie.E012",
        )
    ]
