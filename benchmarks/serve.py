"""``--serve``: server CPU time per request under uvicorn and waitress on 127.0.0.1.

Each server runs in its own process; a load generator in another process
(:mod:`benchmarks.load`) sends a fixed number of keep-alive requests. The server's CPU
time (``utime + stime`` from ``/proc/<pid>/stat``, all its threads) is read before and
after, so neither the client nor other load on the machine is counted. Bare and wrapped
servers run side by side and are measured in alternation; ratios are taken per round.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    key: str
    label: str
    command: list[str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None


@dataclass
class Run:
    server: Server
    mode: str
    label: str
    per_request: list[float] = field(default_factory=list)  # µs of server CPU, per round


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _uvicorn(target: str) -> list[str]:
    quiet = ["--log-level", "warning", "--no-access-log"]
    # h11 and asyncio whatever else is installed (uvicorn picks httptools and uvloop when it
    # finds them), so that runs compare: `pip install uvicorn` gives these.
    pure = ["--http", "h11", "--loop", "asyncio"]
    return [
        sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", *pure, *quiet, target, "--port={}",
    ]  # fmt: skip


def _waitress(target: str) -> list[str]:
    return [sys.executable, "-m", "waitress", "--host=127.0.0.1", "--port={}", target]


SERVERS = (
    Server(
        "uvicorn-bare", "uvicorn + Starlette, bare", _uvicorn("benchmarks.served:starlette_bare")
    ),
    Server(
        "uvicorn-jwtcookie",
        "uvicorn + Starlette + jwtcookie",
        _uvicorn("benchmarks.served:starlette_jwtcookie"),
    ),
    Server("waitress-bare", "waitress + Flask, bare", _waitress("benchmarks.served:flask_bare")),
    Server(
        "waitress-jwtcookie",
        "waitress + Flask + jwtcookie",
        _waitress("benchmarks.served:flask_jwtcookie"),
    ),
)


def _start(server: Server) -> None:
    server.port = _free_port()
    command = [part.format(server.port) for part in server.command]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server.process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=0.5).close()
            return
        except OSError:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.label} exited at start-up") from None
            time.sleep(0.1)
    raise RuntimeError(f"{server.label} did not start listening within 20 s")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


def _load(server: Server, requests: int, mode: str) -> float:
    """Server CPU seconds spent on ``requests`` requests."""
    assert server.process is not None
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "benchmarks.load", str(server.port), str(requests), mode]
    client = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE)
    before = _cpu_seconds(server.process.pid)
    out, _ = client.communicate(timeout=600)
    after = _cpu_seconds(server.process.pid)
    if client.returncode != 0 or out.strip() != b"0":
        raise RuntimeError(f"load on {server.label} failed: {out!r}")
    return after - before


def measure(requests: int = 20000, rounds: int = 3) -> str:
    by_key = {server.key: server for server in SERVERS}
    runs = [
        Run(by_key["uvicorn-bare"], "valid", "uvicorn + Starlette, bare"),
        Run(by_key["uvicorn-jwtcookie"], "valid", "uvicorn + Starlette + jwtcookie, repeat token"),
        Run(by_key["uvicorn-jwtcookie"], "fresh", "uvicorn + Starlette + jwtcookie, fresh tokens"),
        Run(by_key["waitress-bare"], "valid", "waitress + Flask, bare"),
        Run(by_key["waitress-jwtcookie"], "valid", "waitress + Flask + jwtcookie, repeat token"),
        Run(by_key["waitress-jwtcookie"], "fresh", "waitress + Flask + jwtcookie, fresh tokens"),
    ]
    try:
        for server in SERVERS:
            _start(server)
            _load(server, min(500, requests), "valid")  # warm up
        shuffler = random.Random(6)
        for number in range(rounds):
            order = list(runs)
            shuffler.shuffle(order)
            for run in order:
                seconds = _load(run.server, requests, run.mode)
                run.per_request.append(seconds / requests * 1e6)
            print(f"  serve round {number + 1}/{rounds} done", flush=True)
    finally:
        for server in SERVERS:
            if server.process is not None:
                server.process.terminate()
                server.process.wait(timeout=10)
    return _render(runs, requests, rounds)


def _render(runs: list[Run], requests: int, rounds: int) -> str:
    lines = [
        f"{requests} keep-alive requests per run from a separate process, {rounds} rounds; "
        f"server CPU from /proc/<pid>/stat (resolution {1e6 / TICK / requests:.1f} µs/request).",
        "",
        "| server | CPU µs per request (median) | ratio to bare (median of rounds) | target |",
        "| --- | ---: | ---: | --- |",
    ]
    bare = {run.server.key.split("-")[0]: run for run in runs if run.server.key.endswith("bare")}
    for run in runs:
        ratio = target = ""
        if not run.server.key.endswith("bare"):
            base = bare[run.server.key.split("-")[0]]
            values = [a / b for a, b in zip(run.per_request, base.per_request, strict=True)]
            ratio = f"{statistics.median(values):.3f}"
            if run.server.key == "uvicorn-jwtcookie" and run.mode == "valid":
                target = "≤ 1.10: " + (
                    "met" if statistics.median(values) <= 1.10 else "**not met**"
                )
        lines.append(
            f"| {run.label} | {statistics.median(run.per_request):.1f} | {ratio} | {target} |"
        )
    return "\n".join(lines)
