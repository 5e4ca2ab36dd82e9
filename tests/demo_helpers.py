"""Helpers for the demo tests: one client interface over both demos, tokens, real servers.

The demo tests talk to `demos/flask_demo` through Flask's test client and to
`demos/starlette_demo` through Starlette's TestClient, both wrapped in `DemoClient` so one
scenario runs against each. Neither client keeps cookies: a test passes the token it means
to send, so what is sent is always visible in the test.
"""

from __future__ import annotations

import importlib
import json as jsonlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from starlette.testclient import TestClient  # on httpx2 (the test extra), so no warning

from tests.running_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMOS = ("flask_demo", "starlette_demo")
SECRET = "demo-tests-" + "0123456789abcdef" * 4  # 75 bytes: long enough even for HS512
WEEK = 7 * 24 * 3600
DAY = 24 * 3600
# Every wait in these tests stops here at the latest.
SERVER_START_SECONDS = 30.0


@dataclass
class Reply:
    """A response from either test client, reduced to what the contract talks about."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[0] if values else None

    def json(self) -> Any:
        assert (self.header("content-type") or "").startswith("application/json"), self
        return jsonlib.loads(self.body)

    def set_cookies(self) -> list[str]:
        return [value for key, value in self.headers if key.lower() == "set-cookie"]

    def access_token_cookies(self) -> list[str]:
        return [value for value in self.set_cookies() if value.startswith("access_token=")]

    def access_token(self) -> str:
        """The token this response stores; fails unless it sets exactly one."""
        cookies = self.access_token_cookies()
        assert len(cookies) == 1, cookies
        token = cookies[0].split(";")[0].removeprefix("access_token=")
        assert token, cookies[0]
        return token


def cookie_attributes(set_cookie: str) -> set[str]:
    """`...; Max-Age=604800; HttpOnly; SameSite=Lax` as {"max-age=604800", "httponly",
    "samesite=lax"}: attribute names and these values are case-insensitive."""
    return {part.strip().lower() for part in set_cookie.split(";")[1:]}


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
    ) -> Reply:
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
                return Reply(response.status_code, response.headers.to_wsgi_list(), response.data)
        reply = self._starlette.request(method, path, content=body, headers=sent)
        self._starlette.cookies.clear()  # keep each request independent of the last
        return Reply(reply.status_code, reply.headers.multi_items(), reply.content)

    def post(self, path: str, **options: Any) -> Reply:
        return self.request("POST", path, **options)

    def get(self, path: str, **options: Any) -> Reply:
        return self.request("GET", path, **options)

    def register(self, username: str, password: str, **options: Any) -> Reply:
        credentials = {"username": username, "password": password}
        return self.post("/api/auth/register", json=credentials, **options)

    def login(self, username: str, password: str, **options: Any) -> Reply:
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


def make_token(
    claims: Mapping[str, Any],
    *,
    issued_at: float | None = None,
    lifetime: int = WEEK,
    secret: str | bytes = SECRET,
    algorithm: str = "HS256",
) -> str:
    """A token made with PyJWT alone, as Node's jsonwebtoken makes one (`expiresIn: '7d'`)."""
    iat = int(time.time() if issued_at is None else issued_at)
    payload = {**claims, "iat": iat, "exp": iat + lifetime}
    key = secret.encode() if isinstance(secret, str) else secret
    return jwt.encode(payload, key, algorithm=algorithm)


def decode_token(token: str, *, secret: str = SECRET) -> dict[str, Any]:
    """The claims of a token, verified HS256 with the UTF-8 bytes of `secret`."""
    claims: dict[str, Any] = jwt.decode(token, secret.encode(), algorithms=["HS256"])
    return claims


# ----------------------------------------------------------------------------- real servers


@dataclass
class Server:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def demo_env(**overrides: str | None) -> dict[str, str]:
    """The environment for a demo process: ours, plus overrides (None removes a variable).
    HOST, PORT and TRUSTED_PROXY are never inherited: a test sets them when it means to."""
    inherited = os.environ.items()
    env = {key: value for key, value in inherited if key not in {"HOST", "PORT", "TRUSTED_PROXY"}}
    env["PYTHONUNBUFFERED"] = "1"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a process we started: politely, then for sure; never waits unbounded."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_until_serving(server: Server) -> None:
    """Poll until the server answers any HTTP response; fail with its log otherwise."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"{server.name} exited early:\n{server.log()}")
        try:
            httpx.get(server.base_url + "/api/auth/check", timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return
    raise AssertionError(
        f"{server.name} did not answer in {SERVER_START_SECONDS} s:\n{server.log()}"
    )


@contextmanager
def running_demo(name: str, log_dir: Path, **env: str | None) -> Iterator[Server]:
    """`python -m demos.<name>` on a free 127.0.0.1 port; always stopped on exit."""
    port = free_port()
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", f"demos.{name}"],
            cwd=REPO_ROOT,
            env=demo_env(HOST="127.0.0.1", PORT=str(port), **env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(name, f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_until_serving(server)
        yield server
    finally:
        stop(process)
