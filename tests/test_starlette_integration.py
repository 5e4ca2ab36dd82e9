"""Starlette: request.user, request.auth, @requires, WebSockets, and contrib's @login_required."""

from __future__ import annotations

import asyncio
import time
import warnings
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.endpoints import HTTPEndpoint
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from jwtcookie import JWTCookieMiddleware, get_auth
from jwtcookie.contrib.starlette import login_required
from tests.harness import ALICE, DAY, SECRET, make_token

with warnings.catch_warnings():
    # Starlette >= 1.10 warns at import when its TestClient runs on httpx instead of httpx2;
    # both work. A category filter would name a class older Starlette lacks, so filter by text.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

GRACE = {**ALICE, "scope": "admin"}  # the scope claim names Starlette's extra scopes
GOOD = make_token(GRACE)


def cookie(value: str) -> dict[str, str]:
    return {"cookie": f"access_token={value}"}


async def me(request: Request) -> JSONResponse:
    user = request.user
    return JSONResponse(
        {
            "authenticated": user.is_authenticated,
            "name": user.display_name,
            "scopes": list(request.auth.scopes),
        }
    )


@requires("authenticated")
async def authenticated_only(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.user.identity})


@requires(["authenticated", "admin"])
async def admin_only(request: Request) -> JSONResponse:
    return JSONResponse({"admin": request.user.display_name})


@login_required
async def private(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.user.identity})


@login_required
def sync_private(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.user.identity})


class PrivateEndpoint(HTTPEndpoint):
    @login_required
    async def get(self, request: Request) -> JSONResponse:
        return JSONResponse({"id": request.user.identity})


async def logout(request: Request) -> Response:
    get_auth(request).logout()
    return Response(status_code=204)


async def ws_echo_user(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(
        {"authenticated": websocket.user.is_authenticated, "name": websocket.user.display_name}
    )
    await websocket.close()


@requires("authenticated")
async def ws_requires(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"name": websocket.user.display_name})
    await websocket.close()


@login_required
async def ws_login_required(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"name": websocket.user.display_name})
    await websocket.close()


ROUTES = [
    Route("/me", me),
    Route("/requires", authenticated_only),
    Route("/admin", admin_only),
    Route("/private", private),
    Route("/sync-private", sync_private),
    Route("/endpoint", PrivateEndpoint),
    Route("/logout", logout, methods=["POST"]),
    WebSocketRoute("/ws", ws_echo_user),
    WebSocketRoute("/ws-requires", ws_requires),
    WebSocketRoute("/ws-login-required", ws_login_required),
]


def wrapped_directly() -> Any:
    return JWTCookieMiddleware(Starlette(routes=ROUTES), secret=SECRET, secure=False)


def added_as_starlette_middleware() -> Any:
    middleware = [Middleware(JWTCookieMiddleware, secret=SECRET, secure=False)]
    return Starlette(routes=ROUTES, middleware=middleware)


@pytest.fixture(params=[wrapped_directly, added_as_starlette_middleware], ids=lambda f: f.__name__)
def client(request: pytest.FixtureRequest) -> Any:
    with TestClient(request.param(), cookies=None) as test_client:
        yield test_client


def test_request_user_is_anonymous_without_a_cookie(client: TestClient) -> None:
    assert client.get("/me").json() == {"authenticated": False, "name": "", "scopes": []}


def test_request_user_and_auth_come_from_the_token(client: TestClient) -> None:
    body = client.get("/me", headers=cookie(GOOD)).json()
    assert body == {"authenticated": True, "name": "alice", "scopes": ["authenticated", "admin"]}


def test_requires_authenticated_refuses_an_anonymous_request_with_403(client: TestClient) -> None:
    assert client.get("/requires").status_code == 403  # Starlette's own answer


def test_requires_authenticated_lets_a_logged_in_user_through(client: TestClient) -> None:
    assert client.get("/requires", headers=cookie(GOOD)).json() == {"id": "1"}


def test_requires_reads_extra_scopes_from_the_scope_claim(client: TestClient) -> None:
    assert client.get("/admin", headers=cookie(GOOD)).status_code == 200
    assert (
        client.get("/admin", headers=cookie(make_token(GRACE, scope="reader"))).status_code == 403
    )


@pytest.mark.parametrize("path", ["/private", "/sync-private", "/endpoint"])
def test_login_required_answers_401_json_when_anonymous(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"error": "authentication required"}


@pytest.mark.parametrize("path", ["/private", "/sync-private", "/endpoint"])
def test_login_required_lets_a_logged_in_user_through(client: TestClient, path: str) -> None:
    assert client.get(path, headers=cookie(GOOD)).json() == {"id": "1"}


def test_an_old_token_is_renewed_and_a_logout_is_not(client: TestClient) -> None:
    old = make_token(GRACE, issued=time.time() - 4 * DAY)
    renewed = client.get("/me", headers=cookie(old)).headers.get_list("set-cookie")
    assert len(renewed) == 1
    assert renewed[0].startswith("access_token=ey")
    client.cookies.clear()  # send only the old token again, not the renewed one
    logged_out = client.post("/logout", headers=cookie(old)).headers.get_list("set-cookie")
    assert len(logged_out) == 1
    assert logged_out[0].startswith("access_token=;")


def test_websocket_endpoint_sees_the_logged_in_user(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=cookie(GOOD)) as websocket:
        assert websocket.receive_json() == {"authenticated": True, "name": "alice"}


def test_websocket_endpoint_sees_an_anonymous_user_without_a_cookie(client: TestClient) -> None:
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_json() == {"authenticated": False, "name": ""}


def test_websocket_with_an_expired_token_is_anonymous(client: TestClient) -> None:
    with client.websocket_connect(
        "/ws", headers=cookie(make_token(GRACE, issued=time.time() - 8 * DAY))
    ) as websocket:
        assert websocket.receive_json() == {"authenticated": False, "name": ""}


def test_requires_closes_an_anonymous_websocket_before_accepting_it(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws-requires"):
        pass  # pragma: no cover - the handshake is refused
    assert closed.value.code == 1000  # Starlette's @requires closes with a normal closure


def test_requires_accepts_a_logged_in_websocket(client: TestClient) -> None:
    with client.websocket_connect("/ws-requires", headers=cookie(GOOD)) as websocket:
        assert websocket.receive_json() == {"name": "alice"}


def test_login_required_closes_an_anonymous_websocket_with_1008(client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/ws-login-required"),
    ):
        pass  # pragma: no cover - the handshake is refused
    assert closed.value.code == 1008
    assert closed.value.reason == "authentication required"


def test_login_required_accepts_a_logged_in_websocket(client: TestClient) -> None:
    with client.websocket_connect("/ws-login-required", headers=cookie(GOOD)) as websocket:
        assert websocket.receive_json() == {"name": "alice"}


def test_login_required_refuses_an_endpoint_without_a_connection_argument() -> None:
    @login_required
    async def not_an_endpoint(value: int) -> int:
        return value

    with pytest.raises(TypeError, match="Request or WebSocket"):
        asyncio.run(not_an_endpoint(1))
