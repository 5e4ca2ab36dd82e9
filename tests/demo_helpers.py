"""Helpers for the demo tests: either demo behind one client, and how to start one for real.

The contract tests talk to `demos/flask_demo` through Flask's test client and to
`demos/starlette_demo` through Starlette's TestClient, both wrapped in `DemoClient` so one
test runs against each. Neither client keeps cookies: a test passes the token it means to
send, so what is sent is always visible in the test. The demos take `harness.SECRET`.
"""

from __future__ import annotations

import importlib
import json as jsonlib
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient  # on httpx2 (the test extra), so no warning

from tests.harness import SECRET, Reply, parse_set_cookie
from tests.scenarios import LOGIN_ATTRIBUTES
from tests.servers import Command, server_env

DEMOS = ("flask_demo", "starlette_demo")
PASSWORD = "correct horse"  # 13 bytes: within the 8-72 the contract allows


class DemoReply(Reply):
    @property
    def json(self) -> Any:
        """The body as JSON; asserts the response says it is JSON."""
        assert self.header("content-type")[0].startswith("application/json"), self
        return jsonlib.loads(self.body)


def stored_token(reply: Reply) -> str:
    """The token of the one Set-Cookie that stores access_token, its attributes checked."""
    (cookie,) = reply.set_cookies("access_token")
    _, token, attributes = parse_set_cookie(cookie)
    assert token, cookie
    assert attributes == LOGIN_ATTRIBUTES, cookie
    return token


def unique_username() -> str:
    """3-20 ASCII letters or digits, different on every call and every run."""
    return "u" + secrets.token_hex(6)


class DemoClient:
    """Either demo behind one `request` method; no cookie jar, no exceptions re-raised."""

    def __init__(self, name: str, app: Any, db_path: Path) -> None:
        self.name = name
        self.app = app
        self.db_path = db_path
        if name == "flask_demo":
            self._flask = app.test_client(use_cookies=False)
            self.origin = "http://localhost"  # the Flask test client's own host
        else:
            # raise_server_exceptions=False: a 500 is observed as the client would see it.
            self._starlette = TestClient(app, raise_server_exceptions=False)
            self.origin = "http://testserver"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | None = None,
        content_type: str | None = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> DemoReply:
        sent = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json).encode()
            content_type = content_type or "application/json"
        if content_type is not None:
            sent["Content-Type"] = content_type
        if token is not None:
            sent["Cookie"] = f"access_token={token}"
        if self.name == "flask_demo":
            response = self._flask.open(path, method=method, data=body or b"", headers=sent)
            with response:  # closes file-backed bodies (the static page)
                headers_sent = response.headers.to_wsgi_list()
                return DemoReply(response.status_code, headers_sent, response.data)
        reply = self._starlette.request(method, path, content=body, headers=sent)
        self._starlette.cookies.clear()  # keep each request independent of the last
        return DemoReply(reply.status_code, reply.headers.multi_items(), reply.content)

    def post(self, path: str, **options: Any) -> DemoReply:
        return self.request("POST", path, **options)

    def get(self, path: str, **options: Any) -> DemoReply:
        return self.request("GET", path, **options)

    def register(self, username: str, password: str, **options: Any) -> DemoReply:
        credentials = {"username": username, "password": password}
        return self.post("/api/auth/register", json=credentials, **options)

    def login(self, username: str, password: str, **options: Any) -> DemoReply:
        credentials = {"username": username, "password": password}
        return self.post("/api/auth/login", json=credentials, **options)


def demo_module(name: str) -> Any:
    """`demos.<name>.app`; importing it builds its module-level `app` from the environment,
    so callers set DEMO_DB and JWT_SECRET first (see `make_demo`)."""
    return importlib.import_module(f"demos.{name}.app")


def make_demo(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    secret: str = SECRET,
    secure: bool = False,
) -> DemoClient:
    """A fresh app of demo `name` on its own database in `tmp_path`."""
    # For the module-level `app` built on first import: nothing in the working directory.
    monkeypatch.setenv("DEMO_DB", str(tmp_path / "module-level-app.sqlite3"))
    monkeypatch.setenv("JWT_SECRET", SECRET)
    db_path = tmp_path / f"{name}.sqlite3"
    app = demo_module(name).create_app(db_path=str(db_path), secret=secret, secure=secure)
    return DemoClient(name, app, db_path)


# ----------------------------------------------------------------------------- real servers


def demo_command(demo: str) -> Command:
    """`python -m demos.<demo>`: the demo's own entry point, which reads HOST and PORT."""
    return lambda port: [sys.executable, "-m", f"demos.{demo}"]


def demo_env(db_path: Path, **overrides: str | None) -> dict[str, str]:
    """A demo process's environment: `harness.SECRET`, its database, plain-http cookies."""
    settings: dict[str, str | None] = {
        "JWT_SECRET": SECRET,
        "DEMO_DB": str(db_path),
        "COOKIE_SECURE": "0",
    }
    return server_env(**{**settings, **overrides})
