"""``jwtcookie.testing``: log any framework's test client in, mint tokens of any age."""

from __future__ import annotations

import asyncio
import time
import warnings
from typing import Any

import httpx
import jwt
import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtcookie import JWTCookieMiddleware, Key, Keyring, Settings, get_auth
from jwtcookie.testing import csrf_value, log_in, log_out, mint
from tests.harness import DAY, SECRET

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient

SETTINGS = Settings(secret=SECRET)  # secure=True: the default, and the testserver pitfall
BOB = {"_id": "7", "username": "bob"}


def flask_app(settings: Settings) -> Flask:
    app = Flask(__name__)

    @app.route("/me", methods=["GET", "POST"])
    def me() -> dict[str, Any]:
        from flask import request

        auth = get_auth(request)
        return {"user": auth.user.identity, "reason": str(auth.reason)}

    app.wsgi_app = JWTCookieMiddleware(app.wsgi_app, settings=settings)  # type: ignore[method-assign]
    return app


def starlette_app(settings: Settings) -> Any:
    async def me(request: Request) -> JSONResponse:
        auth = get_auth(request)
        return JSONResponse({"user": auth.user.identity, "reason": str(auth.reason)})

    return JWTCookieMiddleware(
        Starlette(routes=[Route("/me", me, methods=["GET", "POST"])]), settings=settings
    )


def test_log_in_a_flask_test_client() -> None:
    client = flask_app(SETTINGS).test_client()
    assert client.get("/me").json == {"user": "", "reason": "missing"}
    log_in(client, BOB, SETTINGS)
    assert client.get("/me").json == {"user": "7", "reason": "ok"}
    log_out(client, SETTINGS)
    assert client.get("/me").json["user"] == ""


def test_log_in_a_starlette_test_client_over_plain_http() -> None:
    """The Secure cookie the server would set is never sent back to http://testserver;
    the cookie log_in puts in the jar is."""
    client = TestClient(starlette_app(SETTINGS))
    log_in(client, BOB, SETTINGS)
    assert client.get("/me").json() == {"user": "7", "reason": "ok"}
    log_out(client, SETTINGS)
    assert client.get("/me").json()["user"] == ""


def test_log_in_an_httpx_async_client() -> None:
    async def run() -> Any:
        transport = httpx.ASGITransport(app=starlette_app(SETTINGS))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            log_in(client, BOB, SETTINGS)
            return (await client.get("/me")).json()

    assert asyncio.run(run()) == {"user": "7", "reason": "ok"}


def test_log_in_accepts_the_middleware_instead_of_settings() -> None:
    app = flask_app(Settings(secret=SECRET, secure=False))
    client = app.test_client()
    log_in(client, BOB, app.wsgi_app)  # type: ignore[arg-type]
    assert client.get("/me").json["user"] == "7"


def test_after_rotate_keys_the_middleware_mints_with_its_new_keys() -> None:
    """mint(middleware) used to sign with the Settings' first key, refused after rotation."""
    app = flask_app(Settings(secret=SECRET, secure=False))
    middleware: JWTCookieMiddleware = app.wsgi_app  # type: ignore[assignment]
    middleware.rotate_keys(Keyring([Key.hmac("rotated-" + "r" * 40, kid="next")]))
    client = app.test_client()
    log_in(client, BOB, middleware)
    assert client.get("/me").json == {"user": "7", "reason": "ok"}


def test_a_minted_token_of_a_given_age_is_renewed() -> None:
    client = TestClient(starlette_app(SETTINGS))
    old = mint(SETTINGS, BOB, age=4 * DAY)
    assert jwt.decode(old, SECRET, algorithms=["HS256"], options={"verify_iat": False})["iat"] < (
        time.time() - 4 * DAY + 60
    )
    reply = client.get("/me", headers={"Cookie": f"{SETTINGS.cookie_name}={old}"})
    assert reply.json() == {"user": "7", "reason": "ok"}
    assert reply.headers["set-cookie"].startswith(f"{SETTINGS.cookie_name}=")


def test_an_expired_token_is_refused() -> None:
    client = TestClient(starlette_app(SETTINGS))
    log_in(client, BOB, SETTINGS, age=SETTINGS.max_age + 1)
    assert client.get("/me").json() == {"user": "", "reason": "expired"}
    expired = mint(SETTINGS, BOB, expired=True)
    reply = client.get("/me", headers={"Cookie": f"{SETTINGS.cookie_name}={expired}"})
    assert reply.json()["reason"] == "expired"


def test_log_in_with_double_submit_sets_both_cookies() -> None:
    settings = Settings(secret=SECRET, double_submit=True)
    client = TestClient(starlette_app(settings))
    token = log_in(client, BOB, settings)
    assert client.post("/me").status_code == 403  # the header is still the test's to send
    reply = client.post("/me", headers={"X-CSRF-Token": csrf_value(token)})
    assert reply.json() == {"user": "7", "reason": "ok"}


def test_mistakes_say_what_to_do() -> None:
    with pytest.raises(TypeError, match="needs the app's settings"):
        log_in(TestClient(starlette_app(SETTINGS)), BOB)
    with pytest.raises(TypeError, match="does not know how to set a cookie on a object"):
        log_in(object(), BOB, SETTINGS)
    with pytest.raises(ValueError, match="sub must be a string"):
        mint(SETTINGS, {"sub": 5})
