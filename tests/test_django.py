"""Django: the middleware wraps get_wsgi_application() and get_asgi_application() alike.

A minimal project lives in this module: settings.configure() below, the views and
``urlpatterns`` after it (ROOT_URLCONF points here). Every scenario runs in both modes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django
import httpx
import pytest
from django.conf import settings
from werkzeug.test import Client

from jwtcookie import JWTCookieMiddleware
from tests.harness import ALICE, DAY, SECRET, claims_of, make_token, parse_set_cookie

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="django-test-key-not-for-production",  # Django's own key, unused here
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["localhost", "testserver"],
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        USE_TZ=True,
    )
    django.setup()

from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from jwtcookie.contrib.django import current_user, get_auth, login_required


def me(request: HttpRequest) -> JsonResponse:
    user = current_user(request)
    return JsonResponse({"authenticated": user.is_authenticated, "name": user.display_name})


@login_required
def private(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"id": current_user(request).identity})


@login_required
async def async_private(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"id": current_user(request).identity})


def where(request: HttpRequest) -> JsonResponse:
    """Where each server interface leaves the user: META under WSGI, scope under ASGI."""
    scope = getattr(request, "scope", None)
    return JsonResponse(
        {
            "meta": "jwtcookie.user" in request.META,
            "scope": scope is not None and "user" in scope,
        }
    )


def login(request: HttpRequest) -> JsonResponse:
    get_auth(request).login(ALICE)
    return JsonResponse({"ok": True})


def logout(request: HttpRequest) -> HttpResponse:
    get_auth(request).logout()
    return HttpResponse(status=204)


urlpatterns = [
    path("me", me),
    path("private", private),
    path("async-private", async_private),
    path("where", where),
    path("login", login),
    path("logout", logout),
]


@dataclass
class Reply:
    status: int
    set_cookies: list[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Send = Callable[..., Reply]


def wsgi_sender() -> Send:
    app = JWTCookieMiddleware(get_wsgi_application(), secret=SECRET, secure=False)
    client = Client(app, use_cookies=False)

    def send(method: str, url: str, cookie: str | None = None) -> Reply:
        headers = {"Cookie": f"access_token={cookie}"} if cookie else {}
        response = client.open(url, method=method, headers=headers)
        return Reply(response.status_code, response.headers.getlist("Set-Cookie"), response.data)

    return send


def asgi_sender() -> Send:
    app = JWTCookieMiddleware(get_asgi_application(), secret=SECRET, secure=False)
    transport = httpx.ASGITransport(app=app)

    async def call(method: str, url: str, headers: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.request(method, url, headers=headers)

    def send(method: str, url: str, cookie: str | None = None) -> Reply:
        headers = {"cookie": f"access_token={cookie}"} if cookie else {}
        response = asyncio.run(call(method, url, headers))
        return Reply(
            response.status_code, response.headers.get_list("set-cookie"), response.content
        )

    return send


@pytest.fixture(params=["wsgi", "asgi"])
def send(request: pytest.FixtureRequest) -> Send:
    return wsgi_sender() if request.param == "wsgi" else asgi_sender()


def test_django_handlers_are_detected_as_what_they_are() -> None:
    wsgi = JWTCookieMiddleware(get_wsgi_application(), secret=SECRET)
    asgi = JWTCookieMiddleware(get_asgi_application(), secret=SECRET)
    assert type(wsgi).__name__ == "WSGIMiddleware"
    assert type(asgi).__name__ == "ASGIMiddleware"


def test_current_user_is_anonymous_without_a_cookie(send: Send) -> None:
    assert send("GET", "/me").json() == {"authenticated": False, "name": ""}


def test_current_user_carries_the_token_claims(send: Send) -> None:
    assert send("GET", "/me", make_token()).json() == {"authenticated": True, "name": "alice"}


def test_wsgi_puts_the_user_in_meta_and_asgi_in_the_scope(
    send: Send, request: pytest.FixtureRequest
) -> None:
    found = send("GET", "/where", make_token()).json()
    mode = request.node.callspec.params["send"]
    assert found == {"meta": mode == "wsgi", "scope": mode == "asgi"}


@pytest.mark.parametrize("url", ["/private", "/async-private"])
def test_login_required_answers_401_json_when_anonymous(send: Send, url: str) -> None:
    reply = send("GET", url)
    assert reply.status == 401
    assert reply.json() == {"error": "authentication required"}


@pytest.mark.parametrize("url", ["/private", "/async-private"])
def test_login_required_lets_a_logged_in_user_through(send: Send, url: str) -> None:
    assert send("GET", url, make_token()).json() == {"id": "1"}


def test_login_from_a_view_sets_the_cookie(send: Send) -> None:
    (set_cookie,) = send("POST", "/login").set_cookies
    assert claims_of(parse_set_cookie(set_cookie)[1])["username"] == "alice"


def test_logout_from_a_view_deletes_the_cookie_and_is_not_renewed(send: Send) -> None:
    reply = send("POST", "/logout", make_token(issued=time.time() - 5 * DAY))
    assert reply.status == 204
    (set_cookie,) = reply.set_cookies
    assert set_cookie.startswith("access_token=;")


def test_an_old_token_is_renewed_on_a_django_response(send: Send) -> None:
    (set_cookie,) = send("GET", "/me", make_token(issued=time.time() - 4 * DAY)).set_cookies
    assert set_cookie.startswith("access_token=ey")


def test_a_tampered_token_is_anonymous_and_its_cookie_deleted(send: Send) -> None:
    reply = send("GET", "/me", make_token()[:-4] + "AAAA")
    assert reply.json() == {"authenticated": False, "name": ""}
    assert reply.set_cookies[0].startswith("access_token=;")
