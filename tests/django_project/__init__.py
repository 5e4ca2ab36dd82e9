"""A small Django project for the in-process Django tests, and the switch that turns it on.

Django's settings are one per process and ``tests/test_django.py`` configures its own when it
is imported, so this project never configures Django at import: :func:`activate` configures
it only when nobody has (a run of these tests alone), then overrides what the project needs
with ``override_settings`` for as long as a test module runs, and gives everything back.
Views, DRF and Ninja modules are imported through ``ROOT_URLCONF``, so only once it is on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import django
from asgiref.local import Local
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import AsyncClient, Client, override_settings

SECRET = "django-native-tests-" + "n" * 40
HERE = Path(__file__).resolve().parent
COOKIE = "access_token"  # JWTCOOKIE has secure=False: no __Host- prefix
MIDDLEWARE_PATH = "jwtcookie.contrib.django.JWTCookieMiddleware"

# Only what Django needs to start; test_django.py's configuration is the same shape.
BASE: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": "django-native-tests-key-not-for-production",
    "ROOT_URLCONF": "tests.django_project.urls",
    "ALLOWED_HOSTS": ["testserver", "localhost"],
    "INSTALLED_APPS": [],
    "MIDDLEWARE": [],
    "USE_TZ": True,
}

# startproject's apps and middleware, with jwtcookie where docs/django.md puts it.
PROJECT: dict[str, Any] = {
    "INSTALLED_APPS": [
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "jwtcookie.contrib.django",
        "rest_framework",
    ],
    "MIDDLEWARE": [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        MIDDLEWARE_PATH,
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    "ROOT_URLCONF": "tests.django_project.urls",
    "ALLOWED_HOSTS": ["testserver", "localhost"],
    "TEMPLATES": [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [HERE / "templates"],
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    # Sessions in a signed cookie: the tests that need no database touch none.
    "SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies",
    "MESSAGE_STORAGE": "django.contrib.messages.storage.cookie.CookieStorage",
    "LOGIN_URL": "/login",
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],  # fast, tests only
    "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
    "JWTCOOKIE": {"secret": SECRET, "secure": False},
    "REST_FRAMEWORK": {
        "DEFAULT_AUTHENTICATION_CLASSES": ["jwtcookie.contrib.drf.JWTCookieAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    },
}


@contextmanager
def activate(**overrides: Any) -> Iterator[None]:
    """This project's settings (plus ``overrides``) for the duration of the block."""
    if not settings.configured:
        settings.configure(**BASE)
        django.setup()
    with override_settings(**{**PROJECT, **overrides}):
        yield


@contextmanager
def database(path: Path) -> Iterator[None]:
    """A SQLite file at ``path`` as the default database, with every migration applied.

    Django keeps its database settings once read, and overriding ``DATABASES`` is not
    supported; this swaps the connection handler's settings as Django's own test signals do
    for ``CACHES``, and puts the old ones back.
    """
    from django.core.management import call_command
    from django.db import connections

    saved = connections.__dict__.get("settings"), connections._settings, connections._connections
    configured = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}}
    connections._settings = connections.settings = connections.configure_settings(configured)
    connections._connections = Local(connections.thread_critical)
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield
    finally:
        connections.close_all()
        cached, connections._settings, connections._connections = saved
        if cached is None:
            del connections.__dict__["settings"]
        else:
            connections.settings = cached


class Browser:
    """``django.test.Client`` (``"wsgi"``: Django's WSGI handler, the middleware in sync mode)
    or ``AsyncClient`` (``"asgi"``: the ASGI handler, async mode) behind one synchronous face."""

    def __init__(self, mode: str, **options: Any) -> None:
        self.mode = mode
        self.client = Client(**options) if mode == "wsgi" else AsyncClient(**options)

    def get(self, path: str, **options: Any) -> Any:
        return self._send("get", path, **options)

    def post(self, path: str, data: Any = None, **options: Any) -> Any:
        return self._send("post", path, data or {}, **options)

    def login_with(self, value: str) -> Browser:
        """Put ``value`` in the client's cookie jar as the login cookie."""
        self.client.cookies[COOKIE] = value
        return self

    def _send(self, method: str, *args: Any, **options: Any) -> Any:
        send = getattr(self.client, method)
        if self.mode == "wsgi":
            return send(*args, **options)
        return async_to_sync(awaited)(send, *args, **options)


async def awaited(send: Any, *args: Any, **options: Any) -> Any:
    """``await send(...)``; Django 4.2's AsyncClient methods are plain functions returning one."""
    return await send(*args, **options)
