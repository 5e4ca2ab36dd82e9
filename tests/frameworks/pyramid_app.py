"""Pyramid: `config.make_wsgi_app()` wrapped whole; views read `get_auth(request)` (Pyramid's
request keeps the environ as `request.environ`); WebTest's `TestApp`, Pyramid's documented
functional-test client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from webtest import TestApp

from jwtcookie import JWTCookieMiddleware
from tests.frameworks import answer, chunks
from tests.frameworks.clients import WebTestClient
from tests.harness import Client
from tests.scenarios import OPTIONS

JSON = "application/json"


def index(request: Request) -> Response:
    status, body = answer(request)
    return Response(body, status=status, content_type=JSON)


def stream(request: Request) -> Response:
    status, body = answer(request)
    return Response(app_iter=iter(chunks("/stream", body)), status=status, content_type=JSON)


def login(request: Request) -> Response:
    status, body = answer(request, "login")
    return Response(body, status=status, content_type=JSON)


def logout(request: Request) -> Response:
    status, body = answer(request, "logout")
    return Response(body, status=status, content_type=JSON)


def build() -> Any:
    with Configurator() as config:
        views = [("/", index, None), ("/private", index, "GET"), ("/stream", stream, "GET")]
        views += [("/login", login, "POST"), ("/logout", logout, "POST")]
        for pattern, view, method in views:
            config.add_route(pattern, pattern)
            config.add_view(view, route_name=pattern, request_method=method)
    return config.make_wsgi_app()


app = JWTCookieMiddleware(build(), **OPTIONS)


@contextmanager
def client(app: Any) -> Iterator[Client]:
    yield WebTestClient(TestApp(app))
