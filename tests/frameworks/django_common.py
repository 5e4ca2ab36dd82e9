"""What the Django and Django Ninja apps share: settings, the streaming answer, the handlers
and the test clients.

Django's test client builds requests inside the handler, past any WSGI or ASGI middleware,
so the generic clients drive both: werkzeug's for WSGI, Starlette's for ASGI. Settings are
process-wide: :func:`configure` makes them for the module it is given only when nobody has
(a server process serving that module), and :func:`client` overrides ``ROOT_URLCONF`` with
that module for as long as a test runs in a shared run. Django is imported only after
``configure`` ran, so nothing here reads settings before they exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import django
from django.conf import settings

from tests.frameworks.clients import HttpxTestClient, WerkzeugTestClient
from tests.harness import Client

JSON = "application/json"


def urls(module: str) -> dict[str, Any]:
    return {"ROOT_URLCONF": module, "ALLOWED_HOSTS": ["*"]}


def configure(module: str) -> None:
    """Settings serving ``module``'s ``urlpatterns``, unless a test run made them already."""
    if not settings.configured:
        settings.configure(SECRET_KEY="not-used-by-these-tests", MIDDLEWARE=[], **urls(module))
        django.setup()


def streamed(request: Any, status: int, parts: list[bytes]) -> Any:
    """A streaming answer; an async iterator under ASGI, where Django warns when it must
    drain a sync one."""
    from django.core.handlers.asgi import ASGIRequest
    from django.http import StreamingHttpResponse

    if isinstance(request, ASGIRequest):

        async def async_parts() -> AsyncIterator[bytes]:
            for part in parts:
                yield part

        return StreamingHttpResponse(async_parts(), status=status, content_type=JSON)
    return StreamingHttpResponse(iter(parts), status=status, content_type=JSON)


def build(*, asgi: bool) -> Any:
    from django.core.asgi import get_asgi_application
    from django.core.wsgi import get_wsgi_application

    return get_asgi_application() if asgi else get_wsgi_application()


@contextmanager
def client(app: Any, *, asgi: bool, module: str) -> Iterator[Client]:
    from django.test import override_settings
    from starlette.testclient import TestClient
    from werkzeug.test import Client as WerkzeugClient

    with override_settings(**urls(module)):
        if asgi:  # no `with`: Django's ASGI handler refuses the lifespan protocol
            yield HttpxTestClient(TestClient(app))
        else:
            yield WerkzeugTestClient(WerkzeugClient(app, use_cookies=False))
