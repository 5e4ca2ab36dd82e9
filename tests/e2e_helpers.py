"""Helpers for the end-to-end tests: real servers on 127.0.0.1, tokens, Set-Cookie parsing.

A server is a subprocess started with its own environment on a free loopback port. Starting
waits, in a loop bounded by `START_SECONDS`, until the port answers HTTP; a server that dies
or never answers fails the test with its log. Stopping is always terminate, then kill (the
whole process group, so `uvicorn --workers 2` leaves no worker behind). Each server's
stdout and stderr go to a file under `test-artifacts/e2e-logs/`, kept after the run.
"""

from __future__ import annotations

import html
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt

from tests.running_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"  # gitignored; CI keeps it
LOGS = ARTIFACTS / "e2e-logs"
LOOPBACK = "127.0.0.1"

SECRET = "e2e-tests-" + "fedcba9876543210" * 4  # 74 bytes: enough even for HS512
WEEK = 7 * 24 * 3600
DAY = 24 * 3600
COOKIE = "access_token"
# The attributes the contract gives the cookie, exactly (COOKIE_SECURE=0: no Secure).
COOKIE_ATTRIBUTES = {"httponly": "", "path": "/", "samesite": "Lax", "max-age": "604800"}

START_SECONDS = 30.0  # every wait for a server ends here at the latest
STOP_SECONDS = 10.0
PORT_ATTEMPTS = 3  # a free port can be taken between our probe and the server's bind


# ----------------------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    url: str  # http://127.0.0.1:<port>, no trailing slash
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def demo_command(demo: str) -> Callable[[int], list[str]]:
    """`python -m demos.<demo>`: the demo's own entry point, which reads HOST and PORT."""
    return lambda port: [sys.executable, "-m", f"demos.{demo}"]


def uvicorn_command(app: str, *, workers: int) -> Callable[[int], list[str]]:
    """The uvicorn CLI on an import string, as the demo's README tells people to scale it."""
    return lambda port: [
        sys.executable, "-m", "uvicorn", app,
        "--host", LOOPBACK, "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip


def demo_env(db_path: Path, *, secret: str = SECRET) -> dict[str, str]:
    """The environment of a demo process: ours, minus anything that would redirect it."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"HOST", "PORT", "JWT_SECRET", "DEMO_DB", "COOKIE_SECURE"}
    }
    env.update(
        JWT_SECRET=secret,
        DEMO_DB=str(db_path),
        COOKIE_SECURE="0",
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _launch(name: str, command: Callable[[int], Sequence[str]], env: Mapping[str, str]) -> Server:
    port = free_port()
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command(port)),
            cwd=REPO_ROOT,
            env={**env, "HOST": LOOPBACK, "PORT": str(port)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches the workers
        )
    return Server(name, f"http://{LOOPBACK}:{port}", port, process, log_path)


def _answers(url: str) -> bool:
    try:
        with plain_http_client() as client:
            client.get(url, timeout=1.0)
    except httpx.TransportError:
        return False
    return True


def _lost_port_race(server: Server) -> bool:
    text = server.log().lower()
    return "address already in use" in text or "errno 98" in text


def start_server(
    name: str,
    command: Callable[[int], Sequence[str]],
    env: Mapping[str, str],
    *,
    ready: Callable[[Server], bool] = lambda server: True,
) -> Server:
    """Start `command(port)` and return once it answers HTTP at `/` and `ready(server)`."""
    for _attempt in range(PORT_ATTEMPTS):
        server = _launch(name, command, env)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                break
            if _answers(server.url + "/") and ready(server):
                return server
            time.sleep(0.05)
        else:
            stop_server(server)
            raise AssertionError(
                f"{name} did not answer within {START_SECONDS} s; its log "
                f"({server.log_path}):\n{server.log()}"
            )
        stop_server(server)
        if not _lost_port_race(server):
            raise AssertionError(
                f"{name} exited with {server.process.returncode} before answering; its log "
                f"({server.log_path}):\n{server.log()}"
            )
    raise AssertionError(f"{name}: no free port after {PORT_ATTEMPTS} attempts")


def stop_server(server: Server) -> None:
    """Terminate politely, then kill the process group; never waits unbounded."""
    process = server.process
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_SECONDS)
    # Whatever is left of the group (uvicorn workers after a stuck parent) goes now.
    with suppress(ProcessLookupError, PermissionError):  # the group is already gone
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(timeout=STOP_SECONDS)


@contextmanager
def running_server(
    name: str,
    command: Callable[[int], Sequence[str]],
    env: Mapping[str, str],
    *,
    ready: Callable[[Server], bool] = lambda server: True,
) -> Iterator[Server]:
    """A started server, always stopped on exit; a traceback in its log fails the test."""
    server = start_server(name, command, env, ready=ready)
    try:
        yield server
    finally:
        stop_server(server)
    log = server.log()
    # The contract: no request, however malformed, gets a 500. A traceback means one did,
    # or a worker crashed; either way the run is not clean.
    assert "Traceback" not in log, f"{name} logged a traceback ({server.log_path}):\n{log}"


def log_count(text: str, times: int) -> Callable[[Server], bool]:
    """A `ready` check: the server's log shows `text` at least `times` times."""
    return lambda server: server.log().count(text) >= times


# ----------------------------------------------------------------------------- HTTP


def plain_http_client() -> httpx.Client:
    """A client for http:// only: verify=False skips loading CA certificates (~80 ms each)."""
    return httpx.Client(verify=False)  # noqa: S501 (nothing here speaks TLS)


def call(
    server: Server,
    method: str,
    path: str,
    *,
    token: str | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """One request on a fresh connection, with no cookie jar: only `token` is sent."""
    sent = dict(headers or {})
    if token is not None:
        sent["Cookie"] = f"{COOKIE}={token}"
    with plain_http_client() as client:
        return client.request(method, server.url + path, json=json, headers=sent, timeout=15.0)


def access_token_cookies(response: httpx.Response) -> list[str]:
    return [
        value
        for value in response.headers.get_list("set-cookie")
        if value.lstrip().startswith(COOKIE + "=")
    ]


def parse_set_cookie(value: str) -> tuple[str, str, dict[str, str]]:
    """`name=value; Attr=x; Flag` as (name, value, {attr-lower: value}); duplicates refused."""
    first, *rest = value.split(";")
    name, _, cookie_value = first.strip().partition("=")
    attributes: dict[str, str] = {}
    for part in rest:
        attribute, _, attribute_value = part.strip().partition("=")
        key = attribute.lower()
        assert key not in attributes, f"attribute {attribute!r} twice in {value!r}"
        attributes[key] = attribute_value
    return name, cookie_value, attributes


def stored_token(response: httpx.Response) -> str:
    """The token of the one Set-Cookie that stores access_token, its attributes checked."""
    cookies = access_token_cookies(response)
    assert len(cookies) == 1, cookies
    name, token, attributes = parse_set_cookie(cookies[0])
    assert name == COOKIE
    assert token, cookies[0]
    assert attributes == COOKIE_ATTRIBUTES, cookies[0]
    return token


# ----------------------------------------------------------------------------- tokens


def make_token(
    claims: Mapping[str, Any],
    *,
    issued_at: float | None = None,
    lifetime: int = WEEK,
    secret: str = SECRET,
) -> str:
    """A token made by PyJWT alone, as Node's jsonwebtoken makes one (`expiresIn: '7d'`)."""
    iat = int(time.time() if issued_at is None else issued_at)
    payload = {**claims, "iat": iat, "exp": iat + lifetime}
    return jwt.encode(payload, secret.encode(), algorithm="HS256")


def decode_token(token: str, *, secret: str = SECRET) -> dict[str, Any]:
    """Verified claims (HS256, the UTF-8 bytes of the secret)."""
    claims: dict[str, Any] = jwt.decode(token, secret.encode(), algorithms=["HS256"])
    return claims


def unique_username() -> str:
    """3-20 ASCII letters or digits, different on every call and every run."""
    return "e2e" + secrets.token_hex(6)


PASSWORD = "correct horse battery"  # 21 bytes: within the 8-72 the contract allows


# ----------------------------------------------------------------------------- other origin


class OtherOrigin:
    """A tiny site on its own 127.0.0.1 port whose page POSTs a form to `?target=`.

    Same host, other port: the same *site* as the demo (Chromium sends the SameSite=Lax
    cookie) but another *origin* (`Sec-Fetch-Site: same-site`), which the contract refuses.
    """

    PAGE = (
        "<!doctype html><title>elsewhere</title>"
        '<form id="attack" method="post" action="{target}">'
        '<button id="attack-submit" type="submit">Win a prize</button></form>'
    )

    def __init__(self) -> None:
        page = self.PAGE

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target = parse_qs(urlsplit(self.path).query).get("target", ["/"])[0]
                body = page.format(target=html.escape(target)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest's output quiet

        self.httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.httpd.daemon_threads = True
        self.port: int = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def page_url(self, target: str, *, host: str = LOOPBACK) -> str:
        return f"http://{host}:{self.port}/?{urlencode({'target': target})}"

    def __enter__(self) -> OtherOrigin:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=STOP_SECONDS)
