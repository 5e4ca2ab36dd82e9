"""A real server (gunicorn, uvicorn) on a free 127.0.0.1 port; waits bounded; always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

START_SECONDS = 30.0  # a server that does not answer by then has failed
STOP_SECONDS = 10.0
PORT_ATTEMPTS = 3  # a free port can be taken between our probe and the server's bind


class ServerFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    command: Callable[[int], list[str]], *, cwd: Path, env: Mapping[str, str], ready_path: str
) -> Iterator[str]:
    """Run ``command(port)`` in ``cwd`` until ``ready_path`` answers; yield the base URL."""
    for attempt in range(PORT_ATTEMPTS):
        port = free_port()
        with tempfile.TemporaryFile() as log:  # a file, not a pipe: a chatty server never blocks
            process = subprocess.Popen(
                command(port),
                cwd=cwd,
                env=dict(env),
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            try:
                url = f"http://127.0.0.1:{port}"
                if _wait_until_ready(process, url + ready_path):
                    yield url
                    return
                if attempt == PORT_ATTEMPTS - 1 or "address already in use" not in _read(log):
                    raise ServerFailed(f"{command(port)} did not start:\n{_read(log)}")
            finally:
                _stop(process)


def _wait_until_ready(process: subprocess.Popen[bytes], url: str) -> bool:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            httpx.get(url, timeout=1.0)
            return True
        except httpx.TransportError:
            time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group (gunicorn's and uvicorn's workers too), then SIGKILL."""
    for sent in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sent)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=STOP_SECONDS)
            break
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:
        process.wait(timeout=STOP_SECONDS)


def _read(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")
