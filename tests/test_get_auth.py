"""``get_auth(request)`` reads every framework's request object, and says what went wrong."""

from __future__ import annotations

import warnings

import falcon
import falcon.testing
import pytest
from flask import Flask, request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtcookie import JWTCookieMiddleware, get_auth
from jwtcookie.testing import log_in, mint
from tests.harness import SECRET

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient


class Me:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"user": get_auth(req).user.identity}


def test_falcon_keeps_the_environ_as_req_env() -> None:
    middleware = JWTCookieMiddleware(falcon.App(), secret=SECRET, secure=False)
    middleware.app.add_route("/me", Me())
    token = mint(middleware, {"_id": "5"})
    reply = falcon.testing.TestClient(middleware).simulate_get(
        "/me", headers={"Cookie": f"access_token={token}"}
    )
    assert reply.json == {"user": "5"}


def test_an_unwrapped_flask_app_is_told_the_flask_fix() -> None:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        get_auth(request)
        return "unreachable"

    app.testing = True
    with pytest.raises(LookupError, match=r"app\.wsgi_app = JWTCookieMiddleware\(app\.wsgi_app"):
        app.test_client().get("/")


def test_an_unwrapped_starlette_app_is_told_the_starlette_fix() -> None:
    async def index(request: Request) -> JSONResponse:
        get_auth(request)
        return JSONResponse({})

    client = TestClient(Starlette(routes=[Route("/", index)]))
    with pytest.raises(LookupError, match=r"app\.add_middleware\(JWTCookieMiddleware"):
        client.get("/")


def test_a_wrapped_starlette_request_is_read() -> None:
    async def index(request: Request) -> JSONResponse:
        return JSONResponse({"user": get_auth(request).user.identity})

    middleware = JWTCookieMiddleware(Starlette(routes=[Route("/", index)]), secret=SECRET)
    client = TestClient(middleware)
    log_in(client, {"_id": "8"}, middleware)
    assert client.get("/").json() == {"user": "8"}


@pytest.mark.parametrize("thing", [object(), "a string", 42, None])
def test_something_that_is_no_request_is_a_type_error(thing: object) -> None:
    with pytest.raises(TypeError, match=r"cannot read a .*: pass the framework's request object"):
        get_auth(thing)


def test_an_environ_or_scope_without_the_middleware_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match=r"app = JWTCookieMiddleware\(app"):
        get_auth({"REQUEST_METHOD": "GET"})
