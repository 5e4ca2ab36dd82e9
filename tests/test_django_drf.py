"""Django REST Framework and Django Ninja on top of the native middleware.

``JWTCookieAuthentication`` is the project's ``DEFAULT_AUTHENTICATION_CLASSES`` and
``IsAuthenticated`` its default permission; ``JWTCookieAuth`` guards the Ninja API. CSRF is
checked with Django's real ``CsrfViewMiddleware`` (the clients enforce it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client, override_settings

from tests.django_project import PROJECT, SECRET, activate, awaited

COOKIE = "access_token"
DAY = 24 * 3600
GUIDO = {"sub": "3", "username": "guido"}
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}


@pytest.fixture(autouse=True, scope="module")
def project() -> Iterator[None]:
    with activate():
        yield


def token(claims: dict[str, Any] = GUIDO, *, age: float = 0) -> str:
    issued = int(time.time() - age)
    return jwt.encode({**claims, "iat": issued, "exp": issued + 7 * DAY}, SECRET, algorithm="HS256")


def client(value: str | None = None, **options: Any) -> Any:
    from rest_framework.test import APIClient

    api_client = APIClient(**options)
    if value is not None:
        api_client.cookies[COOKIE] = value
    return api_client


def csrf_token(api_client: Any) -> str:
    return str(api_client.get("/form").content.decode())


# -- DRF -------------------------------------------------------------------------------------


def test_drf_sees_the_tokens_user_and_auth() -> None:
    response = client(token()).get("/api/me")
    assert response.status_code == 200
    assert response.json() == {
        "username": "guido",
        "class": "DjangoTokenUser",
        "scopes": ["authenticated"],
        "method": "GET",
    }


def test_drf_answers_401_with_www_authenticate_without_a_token() -> None:
    response = client().get("/api/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Cookie realm="api"'


def test_drf_answers_401_for_an_expired_cookie_and_deletes_it() -> None:
    response = client(token(age=8 * DAY)).get("/api/me")
    assert response.status_code == 401
    assert response.cookies[COOKIE].value == ""


def test_drf_allow_any_view_sees_djangos_anonymous_user() -> None:
    assert client().get("/api/open").json() == {"authenticated": False, "auth": "None"}


def test_drf_permission_classes_read_the_users_flags() -> None:
    from rest_framework.decorators import api_view, permission_classes
    from rest_framework.permissions import IsAdminUser
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory, force_authenticate

    @api_view(["GET"])
    @permission_classes([IsAdminUser])
    def staff_only(request: Any) -> Response:
        return Response("staff")

    request = APIRequestFactory().get("/")
    from jwtcookie.contrib.django import DjangoTokenUser

    force_authenticate(request, user=DjangoTokenUser(GUIDO))
    assert staff_only(request).status_code == 403  # a token user is never staff


def test_drf_post_by_cookie_needs_a_csrf_token_like_session_authentication() -> None:
    api_client = client(token(), enforce_csrf_checks=True)
    refused = api_client.post("/api/me")
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("CSRF Failed")
    accepted = api_client.post("/api/me", headers={"X-CSRFToken": csrf_token(api_client)})
    assert accepted.json()["method"] == "POST"


def test_drf_post_from_a_same_origin_browser_needs_no_csrf_token() -> None:
    response = client(token(), enforce_csrf_checks=True).post("/api/me", headers=SAME_ORIGIN)
    assert response.status_code == 200


def test_drf_bearer_token_needs_no_csrf_token_and_names_bearer() -> None:
    with override_settings(JWTCOOKIE={**PROJECT["JWTCOOKIE"], "bearer": True}):
        api_client = client(enforce_csrf_checks=True)
        assert api_client.get("/api/me")["WWW-Authenticate"] == 'Bearer realm="api"'
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token()}")
        assert api_client.post("/api/me").json()["username"] == "guido"
        api_client.cookies[COOKIE] = token()  # the header still wins: still no CSRF needed
        assert api_client.post("/api/me").status_code == 200


def test_a_plain_view_takes_a_bearer_post_without_a_csrf_token() -> None:
    """Django's CsrfViewMiddleware answered 403 to every Bearer POST on a plain view; an
    invalid Bearer token, or none, still needs Django's check."""
    from django.test import Client

    with override_settings(JWTCOOKIE={**PROJECT["JWTCOOKIE"], "bearer": True}):
        plain = Client(enforce_csrf_checks=True)
        accepted = plain.post("/change", headers={"Authorization": f"Bearer {token()}"})
        assert accepted.content == b"changed by guido"
        forged = plain.post("/change", headers={"Authorization": "Bearer not-a-token"})
        assert forged.status_code == 403
        assert plain.post("/change").status_code == 403


def test_drf_without_the_middleware_says_what_to_add() -> None:
    from django.core.exceptions import ImproperlyConfigured

    without = [entry for entry in PROJECT["MIDDLEWARE"] if "jwtcookie" not in entry]
    with override_settings(MIDDLEWARE=without), pytest.raises(ImproperlyConfigured) as raised:
        client(token()).get("/api/me")
    assert "JWTCookieMiddleware" in str(raised.value)


# -- Ninja -----------------------------------------------------------------------------------


def test_ninja_auth_gives_the_tokens_user() -> None:
    response = Client(headers={"cookie": f"{COOKIE}={token()}"}).get("/ninja/me")
    assert response.json() == {"username": "guido", "class": "DjangoTokenUser"}


def test_ninja_answers_401_without_a_token() -> None:
    assert Client().get("/ninja/me").status_code == 401


def test_ninja_async_operation_gets_the_user_under_asgi() -> None:
    async_client = AsyncClient()
    async_client.cookies[COOKIE] = token()
    response = async_to_sync(awaited)(async_client.get, "/ninja/async-me")
    assert response.json() == {"username": "guido", "class": "DjangoTokenUser"}


def test_ninja_post_by_cookie_needs_csrf_unless_the_browser_says_same_origin() -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.cookies[COOKIE] = token()
    assert browser.post("/ninja/me").status_code == 403
    assert browser.post("/ninja/me", headers=SAME_ORIGIN).json() == {"changed_by": "guido"}
    form_token = browser.get("/form").content.decode()
    assert browser.post("/ninja/me", headers={"X-CSRFToken": form_token}).status_code == 200


def test_ninja_openapi_names_the_cookie() -> None:
    schema = Client().get("/ninja/openapi.json").json()
    (scheme,) = schema["components"]["securitySchemes"].values()
    assert scheme == {"type": "apiKey", "in": "cookie", "name": COOKIE}
