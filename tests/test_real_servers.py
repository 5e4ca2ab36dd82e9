"""The wrapped apps under the servers people deploy on, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import httpx
import jwt
import pytest

from tests.core_apps import DAY, SECRET, Clock, make_token
from tests.running_server import free_port, running

pytestmark = pytest.mark.e2e

APP = "tests.server_apps"
SERVERS = {
    # uvicorn decides ASGI3 vs ASGI2 vs WSGI from the class's __call__ (interface auto).
    "uvicorn-auto": lambda port: [
        "-m",
        "uvicorn",
        f"{APP}:asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--interface",
        "auto",
    ],
    "hypercorn": lambda port: ["-m", "hypercorn", f"{APP}:asgi", "--bind", f"127.0.0.1:{port}"],
    "waitress": lambda port: [
        "-m",
        "waitress",
        "--host=127.0.0.1",
        f"--port={port}",
        f"{APP}:wsgi",
    ],
    "werkzeug-run_simple": lambda port: [
        "-c",
        f"from werkzeug.serving import run_simple; from {APP} import wsgi; "
        f"run_simple('127.0.0.1', {port}, wsgi)",
    ],
}


@pytest.fixture(params=sorted(SERVERS), scope="module")
def base_url(request: pytest.FixtureRequest) -> object:
    port = free_port()
    with running(SERVERS[request.param](port), port, {"JWT_SECRET": SECRET}) as url:
        yield url


def test_login_check_renew_logout_over_real_http(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        login = client.get("/login")
        (cookie,) = login.headers.get_list("set-cookie")
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        token = cookie.split(";")[0].split("=", 1)[1]

        check = client.get("/", headers={"Cookie": f"access_token={token}"})
        assert check.json()["identity"] == "42"
        assert check.headers.get_list("set-cookie") == []

        old = make_token(issued=Clock().now - 4 * DAY)
        renewed = client.get("/", headers={"Cookie": f"access_token={old}"})
        (fresh,) = renewed.headers.get_list("set-cookie")
        claims = jwt.decode(fresh.split(";")[0].split("=", 1)[1], SECRET, algorithms=["HS256"])
        assert claims["exp"] - claims["iat"] == 7 * DAY

        logout = client.get("/logout", headers={"Cookie": f"access_token={old}"})
        assert logout.headers.get_list("set-cookie")[0].startswith("access_token=;")


def test_cross_site_post_is_refused_by_the_real_server(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        refused = client.post("/logout", headers={"Origin": "http://evil.example"})
        assert refused.status_code == 403
        assert refused.json() == {"error": "cross-origin request refused"}
