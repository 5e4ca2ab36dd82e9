"""Django, WSGI and ASGI: `get_wsgi_application()` and `get_asgi_application()` wrapped whole
with the core middleware (the Django-native middleware has its own tests); views read
`get_auth(request)` (`request.META` under WSGI, `request.scope` under ASGI).

Django's test client builds requests inside the handler, past any WSGI or ASGI middleware,
so the generic clients drive these: werkzeug's for WSGI, Starlette's for ASGI. Settings are
process-wide: this module configures them only when nobody has (a server process), and
`urls()` gives what a test overrides (`override_settings(**urls())`) in a shared run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import django
from django.conf import settings


def urls() -> dict[str, Any]:
    return {"ROOT_URLCONF": __name__, "ALLOWED_HOSTS": ["*"]}


if not settings.configured:
    settings.configure(SECRET_KEY="not-used-by-these-tests", MIDDLEWARE=[], **urls())
    django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402 (after settings)
from django.core.handlers.asgi import ASGIRequest  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402
from werkzeug.test import Client as WerkzeugClient  # noqa: E402

from jwtcookie import JWTCookieMiddleware  # noqa: E402
from tests.frameworks import answer, chunks  # noqa: E402
from tests.frameworks.clients import HttpxTestClient, WerkzeugTestClient  # noqa: E402
from tests.harness import Client  # noqa: E402
from tests.scenarios import OPTIONS  # noqa: E402

JSON = "application/json"


def index(request: HttpRequest) -> HttpResponse:
    status, body = answer(request)
    return HttpResponse(body, status=status, content_type=JSON)


def stream(request: HttpRequest) -> HttpResponse:
    status, body = answer(request)
    parts = chunks("/stream", body)
    if isinstance(request, ASGIRequest):  # Django warns when ASGI must drain a sync iterator

        async def async_parts() -> AsyncIterator[bytes]:
            for part in parts:
                yield part

        return StreamingHttpResponse(async_parts(), status=status, content_type=JSON)
    return StreamingHttpResponse(iter(parts), status=status, content_type=JSON)


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


def build(*, asgi: bool) -> Any:
    return get_asgi_application() if asgi else get_wsgi_application()


wsgi = JWTCookieMiddleware(build(asgi=False), **OPTIONS)
asgi = JWTCookieMiddleware(build(asgi=True), **OPTIONS)


@contextmanager
def client(app: Any, *, asgi: bool) -> Iterator[Client]:
    with override_settings(**urls()):
        if asgi:  # no `with`: Django's ASGI handler refuses the lifespan protocol
            yield HttpxTestClient(TestClient(app))
        else:
            yield WerkzeugTestClient(WerkzeugClient(app, use_cookies=False))
