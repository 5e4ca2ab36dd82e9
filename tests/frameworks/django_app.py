"""Django, WSGI and ASGI: `get_wsgi_application()` and `get_asgi_application()` wrapped whole
with the core middleware (the Django-native middleware has its own tests); views read
`get_auth(request)` (`request.META` under WSGI, `request.scope` under ASGI). What it shares
with Django Ninja's app, test clients and settings included, is in `django_common`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from tests.frameworks import django_common

django_common.configure(__name__)

from django.http import HttpRequest, HttpResponse  # noqa: E402 (after settings)
from django.urls import path  # noqa: E402

from jwtcookie import JWTCookieMiddleware  # noqa: E402
from tests.frameworks import answer, chunks  # noqa: E402
from tests.frameworks.django_common import JSON, build  # noqa: E402
from tests.harness import Client  # noqa: E402
from tests.scenarios import OPTIONS  # noqa: E402


def index(request: HttpRequest) -> HttpResponse:
    status, body = answer(request)
    return HttpResponse(body, status=status, content_type=JSON)


def stream(request: HttpRequest) -> HttpResponse:
    status, body = answer(request)
    return django_common.streamed(request, status, chunks("/stream", body))


def login(request: HttpRequest) -> HttpResponse:
    status, body = answer(request, "login")
    return HttpResponse(body, status=status, content_type=JSON)


def logout(request: HttpRequest) -> HttpResponse:
    status, body = answer(request, "logout")
    return HttpResponse(body, status=status, content_type=JSON)


urlpatterns = [
    path("", index),
    path("private", index),
    path("stream", stream),
    path("login", login),
    path("logout", logout),
]

wsgi = JWTCookieMiddleware(build(asgi=False), **OPTIONS)
asgi = JWTCookieMiddleware(build(asgi=True), **OPTIONS)


def client(app: Any, *, asgi: bool) -> AbstractContextManager[Client]:
    return django_common.client(app, asgi=asgi, module=__name__)
