"""Start the whole scale-out demo with one command; Ctrl-C stops all of it.

    python -m demos.scale_out           # Redis, the issuer, a WSGI and an ASGI verifier
    python -m demos.scale_out rotate    # a new issuer key: published now, signing soon

Everything listens on 127.0.0.1 only. The state (the issuer's private keys, Redis's working
directory) is kept in ``demos/scale_out/.state/`` (``SCALE_OUT_STATE`` to move it), which git
ignores. See README.md for the environment variables and what to try.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from .signing_keys import MAX_AGE, rotate

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent  # the services are imported as demos.scale_out.<name> from here
STATE = Path(os.environ.get("SCALE_OUT_STATE", HERE / ".state"))
START_SECONDS = 30.0  # each service must answer within this, or the demo stops
STOP_SECONDS = 10.0  # each service gets this long to stop before it is killed

Process = subprocess.Popen[bytes]


def main(argv: list[str]) -> int:
    if argv == ["rotate"]:
        return rotate_key()
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    return run()


def rotate_key() -> int:
    publish_ahead = float(os.environ.get("PUBLISH_AHEAD", "60"))
    kid = rotate(key_directory(), publish_ahead=publish_ahead, max_age=MAX_AGE)
    print(f"new issuer key {kid}: published within a second, signing in {publish_ahead:g} s")
    return 0


def key_directory() -> Path:
    return Path(os.environ.get("ISSUER_KEY_DIR", STATE / "keys"))


def port(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    if not value.isdigit():
        sys.exit(f"scale_out: {name} must be a port number, not {value!r}")
    return int(value)


def run() -> int:
    issuer_port, wsgi_port = port("ISSUER_PORT", 8000), port("WSGI_PORT", 8001)
    asgi_port, redis_port = port("ASGI_PORT", 8002), port("REDIS_PORT", 6380)
    issuer, wsgi, asgi = (f"http://127.0.0.1:{p}" for p in (issuer_port, wsgi_port, asgi_port))
    env = {
        **os.environ,
        "ISSUER_KEY_DIR": str(key_directory()),
        "JWKS_URL": f"{issuer}/.well-known/jwks.json",
        "WSGI_URL": wsgi,
        "ASGI_URL": asgi,
        "PYTHONUNBUFFERED": "1",
    }
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    python = [sys.executable, "-m"]
    # Each service: its name, its command line (after `python -m`), the URL it answers at.
    # --host 127.0.0.1, never 0.0.0.0: the demo is for this machine only.
    services = [
        (
            "issuer",
            f"uvicorn demos.scale_out.issuer:app --host 127.0.0.1 --port {issuer_port}",
            env["JWKS_URL"],
        ),
        (
            "wsgi-verifier",  # gunicorn forks 2 workers from a master that imported the app
            "gunicorn demos.scale_out.wsgi_verifier:app -c demos/scale_out/gunicorn_conf.py"
            f" --bind 127.0.0.1:{wsgi_port}",
            f"{wsgi}/whoami",
        ),
        (
            "asgi-verifier",  # uvicorn spawns 2 workers, each importing the app
            "uvicorn demos.scale_out.asgi_verifier:app --workers 2"
            f" --host 127.0.0.1 --port {asgi_port}",
            f"{asgi}/whoami",
        ),
    ]
    running: list[tuple[str, Process]] = []
    try:
        if "REDIS_URL" not in os.environ:  # else: your own Redis (or Sentinel, Cluster...)
            running.append(("redis", start_redis(redis_port)))
            wait_for(running[-1], lambda: redis_answers(redis_port))
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        for name, command, url in services:  # in order: the verifiers fetch the issuer's keys
            running.append((name, start(env, [*python, *command.split()])))
            wait_for(running[-1], lambda url=url: answers(url))
        print(
            BANNER.format(issuer=issuer, wsgi=wsgi, asgi=asgi, redis=env["REDIS_URL"]), flush=True
        )
        while True:
            for name, process in running:
                if process.poll() is not None:
                    print(f"scale_out: {name} exited ({process.returncode}); stopping", flush=True)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nscale_out: stopping", flush=True)
        return 0
    except (TimeoutError, RuntimeError) as error:
        print(f"scale_out: {error}; stopping", file=sys.stderr, flush=True)
        return 1
    finally:
        stop_all(running)


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # the same clean stop as Ctrl-C


def start(env: dict[str, str], command: list[str]) -> Process:
    # Same process group as this script: Ctrl-C in the terminal reaches every service too.
    return subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL)  # noqa: S603


def start_redis(redis_port: int) -> Process:
    """Debian's redis-server (apt-get install redis-server), run by us, not as a service."""
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server).is_file():
        raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
    directory = STATE / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    # No persistence: the services keep a copy of every revocation and write it back to a
    # Redis that restarted empty. A production Redis would keep its data (save/appendonly).
    options = f"--port {redis_port} --bind 127.0.0.1 --appendonly no --loglevel warning"
    return start(
        dict(os.environ), [server, *options.split(), "--save", "", "--dir", str(directory)]
    )


def wait_for(started: tuple[str, Process], ready: Callable[[], bool]) -> None:
    name, process = started
    deadline = time.monotonic() + START_SECONDS
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited ({process.returncode}) while starting")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} did not answer within {START_SECONDS:g} s")
        time.sleep(0.1)


def answers(url: str) -> bool:
    """Whether an HTTP server answers at ``url`` (any status)."""
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310  # our own http://127.0.0.1
            return True
    except urllib.error.HTTPError:
        return True  # a 401 is an answer
    except OSError:
        return False


def redis_answers(redis_port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", redis_port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def stop_all(running: list[tuple[str, Process]]) -> None:
    """The last started first (the verifiers, the issuer, Redis): terminate, then kill."""
    for _name, process in reversed(running):
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)


BANNER = """
scale-out demo ready (Ctrl-C stops everything):
  issuer         {issuer}   (signs logins; {issuer}/.well-known/jwks.json)
  WSGI verifier  {wsgi}   (Flask on gunicorn, 2 workers)
  ASGI verifier  {asgi}   (Starlette on uvicorn, 2 workers)
  revocations    {redis}

Try it: open {issuer}/ in a browser, or
  curl -c jar -H 'Content-Type: application/json' \\
       -d '{{"username": "alice", "password": "demo"}}' {issuer}/login
  curl -b jar {wsgi}/whoami ; curl -b jar {asgi}/whoami
  curl -b jar -X POST {asgi}/logout ; curl -b jar {wsgi}/whoami    # refused there too
  python -m demos.scale_out rotate                                 # a new issuer key
"""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
