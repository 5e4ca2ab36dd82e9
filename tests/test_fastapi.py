"""FastAPI through jwtcookie.contrib.fastapi: Depends(current_user), Depends(require_user)."""

from __future__ import annotations

import sys
import textwrap
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends, FastAPI, Response, WebSocket
from starlette.websockets import WebSocketDisconnect

from jwtcookie import JWTCookieMiddleware
from jwtcookie.contrib.fastapi import Auth, CurrentUser, RequiredUser, current_user, require_user
from tests.harness import ALICE, DAY, SECRET, claims_of, make_token, parse_set_cookie
from tests.servers import LOOPBACK, Server, running_server

with warnings.catch_warnings():
    # Starlette >= 1.10 warns at import when its TestClient runs on httpx instead of httpx2;
    # both work. A category filter would name a class older Starlette lacks, so filter by text.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


def cookie(value: str) -> dict[str, str]:
    return {"cookie": f"access_token={value}"}


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/me")
    def me(user: Any = Depends(current_user)) -> dict[str, Any]:
        return {"authenticated": user.is_authenticated, "name": user.display_name}

    @app.get("/private")
    async def private(user: Any = Depends(require_user)) -> dict[str, Any]:
        return {"id": user.identity, "claims": dict(user.claims)}

    @app.get("/annotated")
    def annotated(user: RequiredUser, same: CurrentUser) -> dict[str, Any]:
        return {"id": user.identity, "same": same is user}

    @app.post("/login")
    def login(auth: Auth) -> dict[str, Any]:
        auth.login(ALICE)
        return {"ok": True}

    @app.post("/logout", status_code=204)
    def logout(auth: Auth) -> Response:
        auth.logout()
        return Response(status_code=204)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, user: Any = Depends(require_user)) -> None:
        await websocket.accept()
        await websocket.send_json({"name": user.display_name})
        await websocket.close()

    app.add_middleware(JWTCookieMiddleware, secret=SECRET, secure=False)
    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client


def test_current_user_dependency_is_anonymous_without_a_cookie(client: TestClient) -> None:
    assert client.get("/me").json() == {"authenticated": False, "name": ""}


def test_current_user_dependency_reads_the_token(client: TestClient) -> None:
    assert client.get("/me", headers=cookie(make_token())).json() == {
        "authenticated": True,
        "name": "alice",
    }


def test_require_user_answers_401_when_anonymous(client: TestClient) -> None:
    response = client.get("/private")
    assert response.status_code == 401
    assert response.json() == {"detail": "authentication required"}


def test_require_user_answers_401_for_an_expired_token(client: TestClient) -> None:
    response = client.get("/private", headers=cookie(make_token(issued=time.time() - 8 * DAY)))
    assert response.status_code == 401
    assert response.headers["set-cookie"].startswith("access_token=;")  # bad cookie deleted


def test_require_user_gives_the_user_and_its_own_claims(client: TestClient) -> None:
    assert client.get("/private", headers=cookie(make_token())).json() == {
        "id": "1",
        "claims": ALICE,
    }


def test_annotated_shortcuts_resolve_to_the_same_user(client: TestClient) -> None:
    assert client.get("/annotated", headers=cookie(make_token())).json() == {
        "id": "1",
        "same": True,
    }


def test_login_through_the_auth_dependency_sets_the_cookie(client: TestClient) -> None:
    set_cookie = client.post("/login").headers["set-cookie"]
    assert claims_of(parse_set_cookie(set_cookie)[1])["_id"] == "1"


def test_logout_through_the_auth_dependency_deletes_the_cookie(client: TestClient) -> None:
    response = client.post("/logout", headers=cookie(make_token(issued=time.time() - 5 * DAY)))
    assert response.status_code == 204
    assert response.headers.get_list("set-cookie") == [response.headers["set-cookie"]]
    assert response.headers["set-cookie"].startswith("access_token=;")


def test_an_old_token_is_renewed_on_a_fastapi_response(client: TestClient) -> None:
    response = client.get("/private", headers=cookie(make_token(issued=time.time() - 4 * DAY)))
    assert response.status_code == 200
    assert response.headers["set-cookie"].startswith("access_token=ey")


def test_require_user_in_a_websocket_route_accepts_a_logged_in_user(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=cookie(make_token())) as websocket:
        assert websocket.receive_json() == {"name": "alice"}


def test_require_user_closes_an_anonymous_websocket_with_1008(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws"):
        pass  # pragma: no cover - the handshake is refused
    assert closed.value.code == 1008


APP_SOURCE = """
from typing import Any

from fastapi import Depends, FastAPI

from jwtcookie import JWTCookieMiddleware
from jwtcookie.contrib.fastapi import require_user

api = FastAPI()


@api.get("/private")
def private(user: Any = Depends(require_user)) -> dict[str, Any]:
    return {"name": user.display_name}


app = JWTCookieMiddleware(api, secret=%r, secure=False)
"""


@pytest.fixture
def uvicorn_server(tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "fastapi_jwt_app.py").write_text(textwrap.dedent(APP_SOURCE % SECRET))
    with running_server(
        "fastapi-uvicorn",
        lambda port: [
            sys.executable, "-m", "uvicorn", "--app-dir", str(tmp_path),
            "--host", LOOPBACK, "--port", str(port), "--log-level", "warning",
            "fastapi_jwt_app:app",  # the default --interface auto decides from the class
        ],
    ) as server:  # fmt: skip
        yield server


@pytest.mark.e2e
def test_fastapi_app_wrapped_by_the_middleware_runs_under_real_uvicorn(
    uvicorn_server: Server,
) -> None:
    assert uvicorn_server.request("/private").status == 401
    response = uvicorn_server.request(
        "/private", cookie=f"access_token={make_token(issued=time.time() - 4 * DAY)}"
    )
    assert response.json == {"name": "alice"}
    (set_cookie,) = response.set_cookies("access_token")
    assert parse_set_cookie(set_cookie)[1].startswith("ey")
