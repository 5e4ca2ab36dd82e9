"""Django Ninja, ASGI and WSGI: Django's handlers wrapped whole with the core middleware, as
for plain Django; operations read `get_auth(request)` on Django's request.

Ninja's TestClient calls the operations with a request it builds, past Django's handler and
any middleware, so the generic clients drive these, as for plain Django (`django_common`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from tests.frameworks import django_common

django_common.configure(__name__)

from django.http import HttpRequest, HttpResponse  # noqa: E402 (after settings)
from django.urls import path  # noqa: E402
from ninja import NinjaAPI  # noqa: E402

from jwtcookie import JWTCookieMiddleware  # noqa: E402
from tests.frameworks import answer, chunks  # noqa: E402
from tests.frameworks.django_common import JSON, build  # noqa: E402
from tests.harness import Client  # noqa: E402
from tests.scenarios import OPTIONS  # noqa: E402

api = NinjaAPI(urls_namespace="jwtcookie-matrix")


@api.api_operation(["GET", "HEAD", "OPTIONS"], "/")
@api.get("/private")
def index(request: HttpRequest) -> HttpResponse:
    status, body = answer(request)
    return HttpResponse(body, status=status, content_type=JSON)


@api.get("/stream")
def stream(request: HttpRequest) -> HttpResponse:
    status, body = answer(request)
    return django_common.streamed(request, status, chunks("/stream", body))


@api.post("/login")
def login(request: HttpRequest) -> HttpResponse:
    status, body = answer(request, "login")
    return HttpResponse(body, status=status, content_type=JSON)


@api.post("/logout")
def logout(request: HttpRequest) -> HttpResponse:
    status, body = answer(request, "logout")
    return HttpResponse(body, status=status, content_type=JSON)


urlpatterns = [path("", api.urls)]

wsgi = JWTCookieMiddleware(build(asgi=False), **OPTIONS)
asgi = JWTCookieMiddleware(build(asgi=True), **OPTIONS)


def client(app: Any, *, asgi: bool) -> AbstractContextManager[Client]:
    return django_common.client(app, asgi=asgi, module=__name__)
