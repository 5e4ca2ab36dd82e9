"""Real servers for the end-to-end tests: a subprocess on a free 127.0.0.1 port, always stopped.

A server is started with its own environment (`server_env`). Starting waits, in a loop
bounded by `START_SECONDS`, until the port answers HTTP (and `ready(server)`); a server that
dies or never answers fails the test with its log, except that a lost race for the port
(another process bound it between our probe and the server's bind) starts it again, at most
`PORT_ATTEMPTS` times. Stopping is terminate, then kill of the whole process group, so
`uvicorn --workers 2` leaves no worker behind; no wait is unbounded. Each server's stdout and
stderr go to `test-artifacts/e2e-logs/<name>-<port>.log`, kept after the run; a traceback in
it fails the test.

A `Server` is a `harness.Client`: `server.request(path, ...)` sends one request on a fresh
connection, with no cookie jar, and answers a `harness.Reply`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.harness import Headers, Reply

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"  # gitignored; CI keeps it
LOGS = ARTIFACTS / "e2e-logs"
LOOPBACK = "127.0.0.1"

START_SECONDS = 30.0  # every wait for a server ends here at the latest
WAIT_TIMEOUT = 15.0  # a wait for a condition ends here at the latest
STOP_SECONDS = 10.0
PORT_ATTEMPTS = 3  # a free port can be taken between our probe and the server's bind
# What a test sets when it means to; never inherited from the environment running pytest.
NOT_INHERITED = {"HOST", "PORT", "JWT_SECRET", "DEMO_DB", "COOKIE_SECURE", "TRUSTED_PROXY"}

Command = Callable[[int], Sequence[str]]  # the port -> the command line


def wait_until(condition: Callable[[], Any], what: str, timeout: float = WAIT_TIMEOUT) -> Any:
    """Poll ``condition`` until it is truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def run_script(script: str, *arguments: str, cwd: Path, timeout: float = 60) -> Any:
    """Run ``script`` in a fresh interpreter and return the JSON its last line prints."""
    result = subprocess.run(
        [sys.executable, "-c", script, *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def server_env(**overrides: str | None) -> dict[str, str]:
    """The environment of a server process: ours without `NOT_INHERITED`, plus `overrides`
    (None removes a variable)."""
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def plain_http_client() -> httpx.Client:
    """A client for http:// only: verify=False skips loading CA certificates (~80 ms each)."""
    return httpx.Client(verify=False)  # noqa: S501 (nothing here speaks TLS)


@dataclass
class Server:
    name: str
    url: str  # http://127.0.0.1:<port>, no trailing slash
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        cookie: str | bytes | None = None,
        headers: Headers | Mapping[str, str] = (),
        json: Any = None,
        content: bytes | None = None,
    ) -> Reply:
        """One request on a fresh connection with no cookie jar: only `cookie` is sent."""
        sent = list(headers.items() if isinstance(headers, Mapping) else headers)
        if cookie is not None:
            sent.append(("cookie", cookie))
        with plain_http_client() as client:
            response = client.request(
                method, self.url + path, headers=sent, json=json, content=content, timeout=15.0
            )
        return Reply(response.status_code, response.headers.multi_items(), response.content)


def _launch(name: str, command: Command, env: Mapping[str, str]) -> Server:
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
    name: str, command: Command, env: Mapping[str, str], *, ready: Callable[[Server], bool]
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
            time.sleep(0.05)  # polling a subprocess, not moving a test's clock
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
    command: Command,
    env: Mapping[str, str] | None = None,
    *,
    ready: Callable[[Server], bool] = lambda server: True,
) -> Iterator[Server]:
    """A started server, always stopped on exit; a traceback in its log fails the test."""
    server = start_server(name, command, server_env() if env is None else env, ready=ready)
    try:
        yield server
    finally:
        stop_server(server)
    log = server.log()
    # No request, however malformed, may get a 500. A traceback means one did, or a worker
    # crashed; either way the run is not clean.
    assert "Traceback" not in log, f"{name} logged a traceback ({server.log_path}):\n{log}"


def log_count(text: str, times: int) -> Callable[[Server], bool]:
    """A `ready` check: the server's log shows `text` at least `times` times."""
    return lambda server: server.log().count(text) >= times
