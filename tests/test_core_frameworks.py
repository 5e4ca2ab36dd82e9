"""The core scenario on a Flask app and a Starlette app, with nothing but the core API."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, jsonify
from flask import request as flask_request
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from werkzeug.test import Client

from jwtcookie import JWTCookieMiddleware, get_auth
from tests.harness import ALICE, DAY, SECRET, WEEK, Clock, claims_of, make_token, parse_set_cookie

COOKIE = "__Host-access_token"  # the default name: secure=True (the default), no domain


def flask_app(**options: Any) -> Client:
    app = Flask(__name__)

    @app.get("/me")
    def me() -> Any:
        auth = get_auth(flask_request)
        if not auth.user.is_authenticated:
            return jsonify(error="not logged in", reason=str(auth.reason)), 401
        return jsonify(_id=auth.user["_id"], username=auth.user["username"])

    @app.post("/login")
    def login() -> Any:
        get_auth(flask_request).login(ALICE)
        return jsonify(ALICE)

    @app.post("/logout")
    def logout() -> Any:
        get_auth(flask_request).logout()
        return "", 204

    @app.get("/stream")
    def stream() -> Any:
        return app.response_class(chunk for chunk in [b"a", b"b", b"c"])

    app.wsgi_app = JWTCookieMiddleware(app.wsgi_app, secret=SECRET, **options)  # type: ignore[method-assign]
    return Client(app, use_cookies=False)


def starlette_app(**options: Any) -> TestClient:
    async def me(request: Request) -> Response:
        if not request.user.is_authenticated:
            reason = str(get_auth(request).reason)
            return JSONResponse({"error": "not logged in", "reason": reason}, 401)
        return JSONResponse({"_id": request.user["_id"], "username": request.user.display_name})

    async def login(request: Request) -> Response:
        get_auth(request).login(ALICE)
        return JSONResponse(ALICE)

    async def logout(request: Request) -> Response:
        get_auth(request).logout()
        return Response(status_code=204)

    async def stream(request: Request) -> Response:
        async def chunks() -> Any:
            for chunk in [b"a", b"b", b"c"]:
                yield chunk

        return StreamingResponse(chunks())

    @requires("authenticated", status_code=401)
    async def members(request: Request) -> Response:
        return JSONResponse({"scopes": request.auth.scopes})

    app = Starlette(
        routes=[
            Route("/me", me),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/stream", stream),
            Route("/members", members),
        ],
        middleware=[Middleware(JWTCookieMiddleware, secret=SECRET, **options)],
    )
    return TestClient(app, base_url="http://testserver", cookies=None)


Factory = Callable[..., Any]
FRAMEWORKS = pytest.mark.parametrize("make", [flask_app, starlette_app], ids=["flask", "starlette"])


def get(client: Any, path: str, token: str | None = None, **kwargs: Any) -> Any:
    headers = {"Cookie": f"{COOKIE}={token}"} if token is not None else {}
    return client.get(path, headers=headers, **kwargs)


def post(client: Any, path: str, token: str | None = None, **headers: str) -> Any:
    if token is not None:
        headers["Cookie"] = f"{COOKIE}={token}"
    return client.post(path, headers=headers)


def json_of(response: Any) -> Any:
    """Flask's test response has ``.json``, httpx's has ``.json()``."""
    return response.json() if callable(response.json) else response.json


def set_cookies(response: Any) -> list[str]:
    return [v for k, v in response.headers.items() if k.lower() == "set-cookie"]


def cookie_value(set_cookie: str) -> str:
    return parse_set_cookie(set_cookie)[1]


@FRAMEWORKS
def test_handler_reads_the_user_in_one_line(make: Factory) -> None:
    response = get(make(), "/me", make_token())
    assert response.status_code == 200
    assert json_of(response) == ALICE


@FRAMEWORKS
def test_anonymous_request_reaches_the_handler_with_its_reason(make: Factory) -> None:
    client = make()
    assert json_of(get(client, "/me"))["reason"] == "missing"
    expired = get(client, "/me", make_token(issued=1_000_000_000))
    assert json_of(expired)["reason"] == "expired"
    assert set_cookies(expired)[0].startswith(f"{COOKIE}=;")


@FRAMEWORKS
def test_login_then_check_with_the_issued_cookie(make: Factory) -> None:
    client = make()
    (cookie,) = set_cookies(post(client, "/login"))
    name, token, attributes = parse_set_cookie(cookie)
    assert name == COOKIE
    expected = {"httponly": "", "secure": "", "path": "/", "samesite": "Lax", "max-age": str(WEEK)}
    assert attributes == expected
    assert json_of(get(client, "/me", token))["username"] == "alice"


@FRAMEWORKS
def test_logout_deletes_and_is_not_renewed(make: Factory) -> None:
    old = make_token(issued=time.time() - 5 * DAY)
    (cookie,) = set_cookies(post(make(), "/logout", old))
    assert cookie.startswith(f"{COOKIE}=;")
    assert "Max-Age=0" in cookie


@FRAMEWORKS
def test_old_token_is_renewed_on_a_plain_request(make: Factory, clock: Clock) -> None:
    response = get(make(clock=clock), "/me", make_token(issued=clock.now - 4 * DAY))
    (cookie,) = set_cookies(response)
    assert claims_of(cookie_value(cookie))["exp"] == int(clock.now) + WEEK


@FRAMEWORKS
def test_streaming_response_is_renewed(make: Factory) -> None:
    response = get(make(), "/stream", make_token(issued=time.time() - 4 * DAY))
    body = response.get_data() if hasattr(response, "get_data") else response.content
    assert body == b"abc"
    assert len(set_cookies(response)) == 1


@FRAMEWORKS
def test_cross_site_logout_is_refused_before_the_handler(make: Factory) -> None:
    response = post(make(), "/logout", make_token(), **{"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert json_of(response) == {"error": "cross-origin request refused"}
    assert set_cookies(response) == []


def test_starlette_requires_works_without_authentication_middleware() -> None:
    client = starlette_app()
    assert get(client, "/members").status_code == 401
    assert json_of(get(client, "/members", make_token())) == {"scopes": ["authenticated"]}
