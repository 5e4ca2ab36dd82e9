"""Django behind a proxy that passes a prefix on: ``protected_paths`` guards what Django routes.

Django routes on ``request.path_info``: under ASGI the scope's ``path`` less
``FORCE_SCRIPT_NAME`` (which wins over the scope's ``root_path``), under WSGI ``PATH_INFO``.
With Django's documented recipe (``location /app/ { proxy_pass ...; }`` and
``FORCE_SCRIPT_NAME = "/app"``) the server gives the ASGI app the path ``/app/me`` and no root
path, and Django routes it to ``me``. The project's real handlers (``get_asgi_application()``,
``get_wsgi_application()``) run here with the middleware in ``MIDDLEWARE``, with and without
``user_model``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest
from django.test import override_settings
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from tests.django_project import PROJECT, SECRET, activate, database

COOKIE = "access_token"
REFUSED = {"error": "authentication required"}
PREFIX = "/app"

Get = Callable[..., httpx.Response]  # (path, headers=None) -> the response


@pytest.fixture(autouse=True, scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    path = tmp_path_factory.mktemp("django-script-name") / "db.sqlite3"
    with activate(SESSION_ENGINE="django.contrib.sessions.backends.db"), database(path):
        yield


@pytest.fixture(autouse=True)
def script_prefix() -> Iterator[None]:
    """Django's WSGI handler sets the thread's script prefix (``reverse()`` reads it) to
    ``FORCE_SCRIPT_NAME``; the test client's never does, so later tests would inherit it."""
    from django.urls import get_script_prefix, set_script_prefix

    saved = get_script_prefix()
    yield
    set_script_prefix(saved)


@pytest.fixture
def alice() -> Iterator[Any]:
    from django.contrib.auth.models import User

    user = User.objects.create_user("alice")
    yield user
    user.delete()


def cookie_for(user: Any) -> dict[str, str]:
    issued = int(time.time())
    claims = {"sub": str(user.pk), "username": "alice", "iat": issued, "exp": issued + 3600}
    return {"Cookie": f"{COOKIE}={jwt.encode(claims, SECRET, algorithm='HS256')}"}


def asgi_get(root_path: str) -> Get:
    """Django's ASGI handler, as a server gives it requests with ``root_path``."""
    from django.core.asgi import get_asgi_application

    transport = httpx.ASGITransport(app=get_asgi_application(), root_path=root_path)

    async def fetch(path: str, headers: dict[str, str] | None) -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.get(path, headers=headers)

    def get(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return asyncio.run(fetch(path, headers))

    return get


def wsgi_get() -> Get:
    """Django's WSGI handler under a ``SCRIPT_NAME``: the server moves the prefix there."""
    from django.core.wsgi import get_wsgi_application

    mounted = DispatcherMiddleware(
        lambda environ, start_response: [], {PREFIX: get_wsgi_application()}
    )
    client = httpx.Client(transport=httpx.WSGITransport(app=mounted), base_url="http://localhost")

    def get(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return client.get(path, headers=headers)

    return get


HANDLERS: dict[str, Callable[[], Get]] = {
    "asgi, the prefix passed on, no root_path": lambda: asgi_get(""),
    "asgi, root_path set by the server": lambda: asgi_get(PREFIX),
    "asgi, a root_path FORCE_SCRIPT_NAME overrides": lambda: asgi_get("/elsewhere"),
    "wsgi, the prefix in SCRIPT_NAME": wsgi_get,
}


@pytest.mark.parametrize("user_model", [False, True], ids=["token user", "user_model"])
@pytest.mark.parametrize("handler", sorted(HANDLERS))
def test_a_protected_path_under_force_script_name_refuses_an_anonymous_request(
    handler: str, user_model: bool, alice: Any
) -> None:
    """Under ASGI, ``GET /app/me`` used to reach the view anonymously (200)."""
    options = {**PROJECT["JWTCOOKIE"], "protected_paths": ["/me"], "user_model": user_model}
    with override_settings(FORCE_SCRIPT_NAME=PREFIX, JWTCOOKIE=options):
        get = HANDLERS[handler]()
        anonymous = get(f"{PREFIX}/me")
        assert (anonymous.status_code, anonymous.json()) == (401, REFUSED)
        logged_in = get(f"{PREFIX}/me", headers=cookie_for(alice))
        assert logged_in.status_code == 200
        expected = "User" if user_model else "DjangoTokenUser"
        assert (logged_in.json()["username"], logged_in.json()["class"]) == ("alice", expected)


@pytest.mark.parametrize("path", ["/api/open", "/ninja/me"])
@pytest.mark.parametrize("handler", sorted(HANDLERS))
def test_drf_and_ninja_views_under_force_script_name_are_guarded(handler: str, path: str) -> None:
    """DRF and Ninja ride on the middleware's answer; ``/api/open`` lets anyone in by itself."""
    options = {**PROJECT["JWTCOOKIE"], "protected_paths": ["/api", "/ninja"]}
    with override_settings(FORCE_SCRIPT_NAME=PREFIX, JWTCOOKIE=options):
        anonymous = HANDLERS[handler]()(f"{PREFIX}{path}")
        assert (anonymous.status_code, anonymous.json()) == (401, REFUSED)


@pytest.mark.parametrize("wrapped", ["handler", "static files handler", "another middleware"])
def test_wrapping_djangos_asgi_application_with_protected_paths_under_force_script_name_is_refused(
    wrapped: str,
) -> None:
    """The wrapper sees the scope's path, ``/app/me``, where Django routes ``/me``: guarding
    ``/me`` there let ``GET /app/me`` through anonymously, so it is refused at construction,
    also when Django's handler is itself wrapped (its static files handler, any middleware)."""
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.asgi import get_asgi_application

    from jwtcookie import JWTCookieMiddleware

    options = {**PROJECT["JWTCOOKIE"], "protected_paths": []}
    with override_settings(FORCE_SCRIPT_NAME=PREFIX, JWTCOOKIE=options, STATIC_URL="/static/"):
        django_app = get_asgi_application()

        async def another_middleware(scope: Any, receive: Any, send: Any) -> None:
            await django_app(scope, receive, send)

        app = {
            "handler": lambda: django_app,
            "static files handler": lambda: ASGIStaticFilesHandler(django_app),
            "another middleware": lambda: another_middleware,
        }[wrapped]()
        with pytest.raises(ValueError, match=r"FORCE_SCRIPT_NAME.*MIDDLEWARE"):
            JWTCookieMiddleware(app, secret=SECRET, protected_paths=["/me"])
        JWTCookieMiddleware(app, secret=SECRET)  # no paths to match: nothing to refuse
    JWTCookieMiddleware(app, secret=SECRET, protected_paths=["/me"])
