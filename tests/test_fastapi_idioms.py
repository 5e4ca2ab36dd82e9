"""FastAPI's habits met: the cookie in OpenAPI, typed dependencies, WWW-Authenticate, issuing."""

from __future__ import annotations

import typing
import warnings

import jwt
from fastapi import Depends, FastAPI

from jwtcookie import JWTCookieMiddleware, Settings, TokenUser
from jwtcookie.contrib.fastapi import Auth, CurrentUser, JWTCookie, RequiredUser, require_user
from jwtcookie.testing import log_in
from tests.harness import SECRET

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

SETTINGS = Settings(secret=SECRET, bearer=True)


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(JWTCookieMiddleware, settings=SETTINGS)  # type: ignore[arg-type]

    @app.get("/me")
    def me(user: CurrentUser) -> dict[str, object]:
        return {"authenticated": user.is_authenticated, "id": user.identity}

    @app.get("/private")
    def private(user: RequiredUser) -> dict[str, str]:
        return {"id": user.identity}

    @app.post("/token")
    def token(auth: Auth) -> dict[str, str]:
        return {"token": auth.issue({"sub": "api-client-7"})}

    return app


def test_the_cookie_is_a_security_scheme_in_the_openapi_document() -> None:
    document = TestClient(make_app()).get("/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["jwtcookie"]
    assert scheme == {
        "type": "apiKey",
        "in": "cookie",
        "name": "__Host-access_token",
        "description": scheme["description"],
    }
    assert "HttpOnly" in scheme["description"], "what /docs shows says why it cannot be read"
    assert document["paths"]["/private"]["get"]["security"] == [{"jwtcookie": []}]
    assert document["paths"]["/me"]["get"]["security"] == [{"jwtcookie": []}]


def test_a_scheme_made_from_settings_names_their_cookie() -> None:
    settings = Settings(secret=SECRET, cookie_name="session")
    scheme = JWTCookie(settings)
    app = FastAPI()
    app.add_middleware(JWTCookieMiddleware, settings=settings)  # type: ignore[arg-type]

    @app.get("/private")
    def private(user: TokenUser = Depends(scheme.required_user)) -> dict[str, str]:
        return {"id": user.identity}

    client = TestClient(app)
    assert (
        client.get("/openapi.json").json()["components"]["securitySchemes"]["jwtcookie"]["name"]
        == "session"
    )
    log_in(client, {"_id": "3"}, settings)
    assert client.get("/private").json() == {"id": "3"}


def test_401_names_a_challenge_in_www_authenticate() -> None:
    reply = TestClient(make_app()).get("/private")
    assert reply.status_code == 401
    assert reply.json() == {"detail": "authentication required"}
    assert reply.headers["www-authenticate"] == 'Cookie name="__Host-access_token"'


def test_the_dependencies_are_typed() -> None:
    assert typing.get_type_hints(require_user)["return"] is TokenUser
    client = TestClient(make_app())
    log_in(client, {"_id": "9", "username": "zoe"}, SETTINGS)
    assert client.get("/private").json() == {"id": "9"}
    assert client.get("/me").json() == {"authenticated": True, "id": "9"}


def test_a_route_issues_a_bearer_token_without_the_middleware_instance() -> None:
    client = TestClient(make_app())
    reply = client.post("/token")
    assert "set-cookie" not in reply.headers
    token = reply.json()["token"]
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["sub"] == "api-client-7"
    authorized = client.get("/private", headers={"Authorization": f"Bearer {token}"})
    assert authorized.json() == {"id": "api-client-7"}
