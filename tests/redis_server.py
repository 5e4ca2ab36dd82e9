"""A real ``redis-server`` for the tests, and a peer process running its own store.

The server listens on a free port of 127.0.0.1 only (``tests.servers.free_port``), keeps
nothing on disk (``--save ""``, no AOF) in a temporary directory, and is always stopped.
``python -m tests.redis_server URL`` is the peer: another process with its own
``RedisRevocations``, driven by one command per line on stdin and answering one JSON line each
(the benchmark uses it too). ``served_app`` is the app ``uvicorn --workers 2`` serves in the
tests, started and stopped by ``tests.servers.running_server``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

from tests.servers import REPO_ROOT, free_port, wait_until

REDIS_SERVER = Path("/usr/bin/redis-server")  # Debian's redis-server package
REQUIRED = os.environ.get("JWTCOOKIE_REQUIRE_REDIS") == "1"  # CI installed it: missing fails
START_TIMEOUT = 10.0  # seconds for redis-server to answer PING; it takes milliseconds


def require_redis_server() -> None:
    """Skip without ``redis-server``; fail instead where CI promised one."""
    if REDIS_SERVER.is_file():
        return
    message = f"redis-server is not installed at {REDIS_SERVER} (apt-get install -y redis-server)"
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


class RedisServer:
    """One redis-server process on one port; ``stop`` and ``start`` again to restart it."""

    def __init__(self, directory: Path, *options: str, config: Path | None = None) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.options = options  # more redis-server options: replication, cluster mode
        self.config = config  # a config file first on the command line (Sentinel needs one)
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._log = (self.directory / "redis.log").open("ab")
        command = [str(REDIS_SERVER)]
        if self.config is not None:
            command += [str(self.config), "--sentinel"]
        else:
            command += ["--save", "", "--appendonly", "no"]
        command += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        self.process = subprocess.Popen(
            [*command, *self.options], stdout=self._log, stderr=subprocess.STDOUT
        )
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited:\n{self.log()}")
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not answer in {START_TIMEOUT} s")
                time.sleep(0.01)
        finally:
            client.close()

    def stop(self) -> None:
        """SIGTERM (it saves nothing: no save points), then SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return (self.directory / "redis.log").read_text(errors="replace")


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def redis_cluster(directory: Path, nodes: int = 3) -> Iterator[list[RedisServer]]:
    """A Redis Cluster of ``nodes`` masters (no replicas), slots shared evenly, all up."""
    import redis

    servers = [
        RedisServer(
            directory / f"node{number}",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            str(directory / f"node{number}" / "nodes.conf"),
            "--cluster-port",  # the default (port + 10000) may be taken, or past 65535
            str(free_port()),
        )
        for number in range(nodes)
    ]
    clients: list[redis.Redis] = []
    try:
        for server in servers:
            server.start()
            clients.append(redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=5))
        share = 16384 // nodes
        for number, client in enumerate(clients):
            last = 16383 if number == nodes - 1 else (number + 1) * share - 1
            client.execute_command("CLUSTER ADDSLOTSRANGE", number * share, last)
        bus_port = servers[0].options[-1]
        for client in clients[1:]:
            client.execute_command("CLUSTER MEET", "127.0.0.1", servers[0].port, bus_port)
        wait_until(
            lambda: all(_cluster_ok(client) and _meshed(client, nodes) for client in clients),
            "the cluster to form, every node linked to every other",
        )
        yield servers
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.stop()


def _cluster_ok(client: Any) -> bool:
    info = client.execute_command("CLUSTER INFO")  # a dict, or the raw text, by version
    state = info.get("cluster_state") if isinstance(info, dict) else None
    return state in ("ok", b"ok") or b"cluster_state:ok" in (
        info if isinstance(info, bytes) else b""
    )


def _meshed(client: Any, nodes: int) -> bool:
    """Whether this node has a live bus link to each other node.

    "cluster_state:ok" can come before the last link is up, and a ``PUBLISH`` made meanwhile
    never reaches subscribers on the unlinked node: Cluster does not queue bus messages.
    """
    known = client.execute_command("CLUSTER NODES")  # redis-py parses it: address -> fields
    return len(known) == nodes and all(
        node["connected"] and "handshake" not in node["flags"] for node in known.values()
    )


@contextmanager
def redis_sentinel(directory: Path) -> Iterator[tuple[RedisServer, RedisServer, RedisServer]]:
    """A master, its replica in sync, and one Sentinel watching them as ``mymaster``."""
    import redis

    sync_now = ("--repl-diskless-sync-delay", "0")  # replicas sync at once, not after 5 s
    master = RedisServer(directory / "master", *sync_now)
    replica = RedisServer(directory / "replica", *sync_now)
    config = directory / "sentinel" / "sentinel.conf"
    sentinel = RedisServer(directory / "sentinel", config=config)
    try:
        master.start()
        replica.options += ("--replicaof", "127.0.0.1", str(master.port))
        replica.start()
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(
            f"sentinel monitor mymaster 127.0.0.1 {master.port} 1\n"
            "sentinel down-after-milliseconds mymaster 500\n"
            "sentinel failover-timeout mymaster 5000\n"
        )
        sentinel.start()
        watcher = redis.Redis(host="127.0.0.1", port=replica.port)
        asking = redis.Redis(host="127.0.0.1", port=sentinel.port, decode_responses=True)
        try:
            wait_until(
                lambda: watcher.info("replication").get("master_link_status") == "up",
                "the replica to sync",
            )
            # Sentinel learns of replicas from the master's INFO (every 10 s at first), and a
            # failover before it knows this one has nothing to promote.
            wait_until(
                lambda: asking.execute_command("SENTINEL", "REPLICAS", "mymaster"),
                "Sentinel to know the replica",
                timeout=30,
            )
        finally:
            watcher.close()
            asking.close()
        yield master, replica, sentinel
    finally:
        for server in (sentinel, replica, master):
            server.stop()


class Peer:
    """Another Python process with its own store, driven line by line."""

    def __init__(self, url: str, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.redis_server", url, *options],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.ask("start") is True

    def ask(self, *command: object) -> Any:
        """One command, one answer; a peer that dies or hangs fails the test."""
        self.send(*command)
        return self.read()

    def send(self, *command: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(" ".join(str(part) for part in command) + "\n")
        self.process.stdin.flush()

    def read(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the peer bounds its own waits
        if not line:
            raise AssertionError(f"the peer exited with {self.process.wait(timeout=10)}")
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextmanager
def peer(url: str, *options: str) -> Iterator[Peer]:
    running = Peer(url, *options)
    try:
        yield running
    finally:
        running.close()


def served_app() -> Any:
    """An ASGI app for ``uvicorn --factory --workers N``: each worker builds its own store.

    Starts the store in the lifespan (in a thread: ``start`` waits for the first load);
    ``/login/<user>`` logs in, ``/logout`` logs out (``revocations=store``: the middleware
    revokes the session); every answer names the worker's pid, so a test can tell the
    workers apart.
    """
    import asyncio

    from jwtcookie import JWTCookieMiddleware, get_auth
    from jwtcookie.redis import RedisRevocations
    from tests.harness import SECRET

    store = RedisRevocations(os.environ["JWTCOOKIE_TEST_REDIS_URL"])

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = (await receive())["type"]
                if event == "lifespan.startup":
                    await asyncio.to_thread(store.start)
                    await send({"type": "lifespan.startup.complete"})
                elif event == "lifespan.shutdown":
                    await store.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        auth = get_auth(scope)
        if scope["path"].startswith("/login/"):
            auth.login({"_id": scope["path"].removeprefix("/login/")})
        elif scope["path"] == "/logout":
            auth.logout()
        body = json.dumps(
            {"identity": auth.user.identity, "reason": str(auth.reason), "pid": os.getpid()}
        ).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return JWTCookieMiddleware(app, secret=SECRET, secure=False, revocations=store)


def _serve_peer(url: str, options: list[str]) -> None:
    """The peer's side: commands on stdin, one JSON answer per line on stdout."""
    from jwtcookie.redis import RedisRevocations

    settings: dict[str, Any] = {}
    for option in options:
        name, _, value = option.partition("=")
        settings[name] = float(value) if name in ("max_staleness", "timeout") else value
    store = RedisRevocations(url, **settings)
    try:
        for line in sys.stdin:
            command, *arguments = line.split()
            if command == "watch":  # say "waiting" first, so the sender knows when to revoke
                print(json.dumps("waiting"), flush=True)
                command = "wait_revoked"
            print(json.dumps(_answer(store, command, arguments)), flush=True)
    finally:
        store.close()


def _answer(store: Any, command: str, arguments: list[str]) -> Any:
    if command == "start":
        return store.start()
    if command == "revoke_session":
        return store.revoke_session(arguments[0])
    if command == "revoke_user":
        return store.revoke_user(arguments[0])
    if command == "is_revoked":
        return store.is_revoked({"sid": arguments[0]})
    if command == "not_before":
        return store.user_not_before({"_id": arguments[0]})
    if command == "wait_revoked":
        # Poll with a short sleep so the follower thread gets the GIL; answer the instant
        # (perf_counter, one clock for every process on Linux) it turned true, or null.
        claims = {"sid": arguments[0]}
        deadline = time.monotonic() + float(arguments[1])
        while not store.is_revoked(claims):
            if time.monotonic() > deadline:
                return None
            time.sleep(0.00005)
        return time.perf_counter()
    if command == "len":
        return len(store)
    raise ValueError(f"unknown peer command {command!r}")


if __name__ == "__main__":
    _serve_peer(sys.argv[1], sys.argv[2:])
