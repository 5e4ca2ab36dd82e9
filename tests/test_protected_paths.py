"""``protected_paths`` matches the path the app routes on, wherever the app is mounted.

Under a root path (``uvicorn --root-path``, hypercorn's ``--root-path``, a Starlette
``Mount``, ``FastAPI(root_path=...)``, an a2wsgi bridge under a ``SCRIPT_NAME``) the ASGI
``scope["path"]`` carries the root path, while the routers route on the path without it
(Starlette's ``get_route_path``). Each set-up below runs a real router behind the option and
checks that an anonymous request never reaches a handler the option protects.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from a2wsgi import ASGIMiddleware as ASGIToWSGI
from fastapi import FastAPI
from flask import Flask
from flask import request as flask_request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from jwtcookie import JWTCookieMiddleware, get_auth
from tests.harness import SECRET, make_token
from tests.server_apps import routed_starlette
from tests.servers import LOOPBACK, running_server

REFUSED = {"error": "authentication required"}
OPTIONS: dict[str, Any] = {"secret": SECRET, "secure": False, "protected_paths": ["/api"]}


def logged_in() -> dict[str, str]:
    return {"Cookie": f"access_token={make_token()}"}


Get = Callable[..., tuple[int, Any]]  # (path, headers=None) -> (status, JSON body)


def assert_guarded(get: Get, prefix: str) -> None:
    """Anonymous: the protected route answers 401 itself, the public one reaches its handler.

    Logged in: the protected route reaches its handler.
    """
    assert get(f"{prefix}/api/private") == (401, REFUSED)
    assert get(f"{prefix}/public") == (200, {"handler": "public", "user": ""})
    allowed = get(f"{prefix}/api/private", headers=logged_in())
    assert allowed == (200, {"handler": "private", "user": "1"})


def http_get(client: httpx.Client | TestClient) -> Get:
    def get(path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        reply = client.get(path, headers=headers)
        return reply.status_code, reply.json()

    return get


def wsgi_get(app: Any) -> Get:
    client = Client(app, use_cookies=False)  # the jar would replace our Cookie header

    def get(path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        reply = client.get(path, headers=headers)
        return reply.status_code, reply.json

    return get


def under_script_name(app: Any) -> Any:
    """``app`` mounted at ``/app``: werkzeug moves the prefix into SCRIPT_NAME."""
    return DispatcherMiddleware(lambda environ, start_response: [], {"/app": app})


def test_a_wrapped_app_mounted_under_a_prefix_is_guarded_on_its_own_routes() -> None:
    outer = Starlette(routes=[Mount("/sub", JWTCookieMiddleware(routed_starlette(), **OPTIONS))])
    with TestClient(outer) as client:
        assert_guarded(http_get(client), "/sub")


def test_a_websocket_under_a_mounted_prefix_is_guarded_on_its_own_route() -> None:
    """The same path rule for a WebSocket handshake: closed with 1008 before the app runs."""

    async def feed(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"user": websocket.user.identity})
        await websocket.close()

    inner = Starlette(routes=[WebSocketRoute("/api/feed", feed)])
    outer = Starlette(routes=[Mount("/sub", JWTCookieMiddleware(inner, **OPTIONS))])
    with TestClient(outer) as client:
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect("/sub/api/feed"),
        ):
            pass
        assert closed.value.code == 1008
        cookie = {"Cookie": f"access_token={make_token()}"}
        with client.websocket_connect("/sub/api/feed", headers=cookie) as socket:
            assert socket.receive_json() == {"user": "1"}


def guarded_fastapi_app(**options: Any) -> FastAPI:
    """A FastAPI app with ``/api/private`` and ``/public``, wrapped by the middleware."""
    app = FastAPI(**options)

    @app.get("/api/private")
    def fastapi_private(request: Request) -> dict[str, str]:
        return {"handler": "private", "user": request.user.identity}

    @app.get("/public")
    def fastapi_public(request: Request) -> dict[str, str]:
        return {"handler": "public", "user": request.user.identity}

    app.add_middleware(JWTCookieMiddleware, **OPTIONS)  # type: ignore[arg-type]
    return app


# Newer FastAPI deprecates root_path= in favour of the server's option; both must be guarded.
@pytest.mark.filterwarnings("ignore:The `root_path` parameter is deprecated")
def test_fastapi_with_a_root_path_is_guarded_on_its_own_routes() -> None:
    app = guarded_fastapi_app(root_path="/app")
    with TestClient(app) as client:
        assert_guarded(http_get(client), "/app")  # a proxy that passes the prefix on
        assert_guarded(http_get(client), "")  # a proxy that strips it


def test_a_fastapi_sub_application_mounted_under_a_prefix_is_guarded_on_its_own_routes() -> None:
    """``app.mount("/v1", sub)`` with the middleware on ``sub``: its paths are ``sub``'s routes."""
    app = FastAPI()
    app.mount("/v1", guarded_fastapi_app())
    with TestClient(app) as client:
        assert_guarded(http_get(client), "/v1")


def test_an_asgi_app_bridged_to_wsgi_under_a_script_name_is_guarded() -> None:
    bridged = ASGIToWSGI(JWTCookieMiddleware(routed_starlette(), **OPTIONS))  # type: ignore[arg-type]
    assert_guarded(wsgi_get(under_script_name(bridged)), "/app")


def test_a_wsgi_app_under_a_script_name_is_guarded_on_path_info() -> None:
    flask_app = Flask(__name__)

    @flask_app.get("/api/private")
    def flask_private() -> dict[str, str]:
        return {"handler": "private", "user": get_auth(flask_request).user.identity}

    @flask_app.get("/public")
    def flask_public() -> dict[str, str]:
        return {"handler": "public", "user": get_auth(flask_request).user.identity}

    flask_app.wsgi_app = JWTCookieMiddleware(flask_app.wsgi_app, **OPTIONS)  # type: ignore[method-assign]
    assert_guarded(wsgi_get(under_script_name(flask_app)), "/app")


def test_a_wsgi_app_is_guarded_on_a_path_that_is_not_ascii() -> None:
    """PEP 3333 carries the path's bytes as latin-1 and werkzeug routes on them decoded as
    UTF-8: ``protected_paths=["/café"]`` used to match neither, and let ``/café/...`` in."""
    flask_app = Flask(__name__)

    @flask_app.get("/café/private")
    def flask_private() -> dict[str, str]:
        return {"handler": "private", "user": get_auth(flask_request).user.identity}

    options = {**OPTIONS, "protected_paths": ["/café"]}
    flask_app.wsgi_app = JWTCookieMiddleware(flask_app.wsgi_app, **options)  # type: ignore[method-assign]
    get = wsgi_get(flask_app)
    assert get("/caf%C3%A9/private") == (401, REFUSED)
    assert get("/caf%C3%A9/private", headers=logged_in()) == (
        200,
        {"handler": "private", "user": "1"},
    )


# Each server with the prefixes a client may send: uvicorn puts the root path in front of
# every path it receives; hypercorn passes the path as sent, so behind a proxy that does not
# strip the prefix the app sees it too.
SERVERS = {
    "uvicorn --root-path": lambda port: [
        sys.executable, "-m", "uvicorn", "tests.server_apps:routed",
        "--host", LOOPBACK, "--port", str(port), "--root-path", "/app",
    ],
    "hypercorn --root-path": lambda port: [
        sys.executable, "-m", "hypercorn", "tests.server_apps:routed",
        "--bind", f"{LOOPBACK}:{port}", "--root-path", "/app",
    ],
}  # fmt: skip


@pytest.mark.e2e
@pytest.mark.parametrize("server", sorted(SERVERS))
def test_a_server_root_path_is_guarded_on_the_apps_own_routes(server: str) -> None:
    with (
        running_server(server.replace(" --", "-"), SERVERS[server]) as started,
        httpx.Client(base_url=started.url, timeout=10) as client,
    ):
        for prefix in PREFIXES[server]:
            assert_guarded(http_get(client), prefix)


PREFIXES = {"uvicorn --root-path": ("",), "hypercorn --root-path": ("", "/app")}
