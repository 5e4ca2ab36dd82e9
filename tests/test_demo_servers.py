"""Both demos on real servers (`python -m demos.flask_demo` on waitress, `python -m
demos.starlette_demo` on uvicorn), on free 127.0.0.1 ports, sharing JWT_SECRET and DEMO_DB:
a cookie from one is accepted by the other."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.demo_helpers import (
    DEMOS,
    REPO_ROOT,
    SECRET,
    Server,
    decode_token,
    demo_env,
    running_demo,
)

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse"
TIMEOUT = 15.0  # seconds for any one request


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """Both demos on one database, as two services sharing JWT_SECRET and DEMO_DB."""
    directory = tmp_path_factory.mktemp("demo-servers")
    env = {"JWT_SECRET": SECRET, "DEMO_DB": str(directory / "shared.sqlite3"), "COOKIE_SECURE": "0"}
    with (
        running_demo("flask_demo", directory, **env) as flask_server,
        running_demo("starlette_demo", directory, **env) as starlette_server,
    ):
        yield {"flask_demo": flask_server, "starlette_demo": starlette_server}


def post(server: Server, path: str, **options: object) -> httpx.Response:
    # Module-level httpx functions: a new client per call, so no cookie jar carries a token
    # from one server to the other behind the test's back.
    return httpx.post(server.base_url + path, timeout=TIMEOUT, **options)  # type: ignore[arg-type]


def check(server: Server, token: str | None) -> httpx.Response:
    headers = {"Cookie": f"access_token={token}"} if token else {}
    return httpx.get(server.base_url + "/api/auth/check", headers=headers, timeout=TIMEOUT)


def access_token(response: httpx.Response) -> str:
    (cookie,) = [c for c in response.headers.get_list("set-cookie") if c.startswith("access_")]
    return cookie.split(";")[0].removeprefix("access_token=")


@pytest.mark.parametrize(
    ("first", "second"), [DEMOS, DEMOS[::-1]], ids=["flask-to-starlette", "starlette-to-flask"]
)
def test_a_cookie_from_one_demo_is_accepted_by_the_other(
    servers: dict[str, Server], first: str, second: str
) -> None:
    username = f"cross{first[:5]}"
    registered = post(
        servers[first], "/api/auth/register", json={"username": username, "password": PASSWORD}
    )
    assert registered.status_code == 201, registered.text
    token = access_token(registered)
    assert decode_token(token)["username"] == username

    answered = check(servers[second], token)
    assert answered.status_code == 200
    assert answered.json() == registered.json()

    # One database: the user can log in on the other demo too, and gets the same _id.
    logged_in = post(
        servers[second], "/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert logged_in.status_code == 200
    assert logged_in.json() == registered.json()
    assert check(servers[first], access_token(logged_in)).json() == registered.json()


@pytest.mark.parametrize("name", DEMOS)
def test_real_server_answers_each_contract_status(servers: dict[str, Server], name: str) -> None:
    server = servers[name]
    credentials = {"username": f"status{name[:5]}", "password": PASSWORD}
    assert post(server, "/api/auth/register", json=credentials).status_code == 201
    assert post(server, "/api/auth/register", json=credentials).status_code == 409
    assert post(server, "/api/auth/register", json={"username": "x"}).status_code == 400
    assert post(server, "/api/auth/login", json=credentials).status_code == 200
    wrong = {**credentials, "password": "wrong password"}
    assert post(server, "/api/auth/login", json=wrong).status_code == 401
    assert check(server, None).status_code == 401
    logout = post(server, "/api/auth/logout")
    assert logout.status_code == 204
    assert logout.headers["set-cookie"].startswith("access_token=;")
    refused = post(server, "/api/auth/logout", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert refused.json() == {"error": "cross-origin request refused"}
    assert "set-cookie" not in refused.headers
    same_origin = post(server, "/api/auth/logout", headers={"Origin": server.base_url})
    assert same_origin.status_code == 204


@pytest.mark.parametrize("name", DEMOS)
def test_real_server_answers_an_oversized_body_with_400_json(
    servers: dict[str, Server], name: str
) -> None:
    body = b'{"username": "big", "password": "' + b"x" * 200_000 + b'"}'
    response = post(
        servers[name],
        "/api/auth/register",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert set(response.json()) == {"error"}


def test_concurrent_duplicate_registration_across_both_servers_gives_one_201(
    servers: dict[str, Server],
) -> None:
    workers = 6
    barrier = threading.Barrier(workers, timeout=30)
    statuses: list[int] = []
    lock = threading.Lock()
    targets = [servers[DEMOS[index % 2]] for index in range(workers)]

    def register(server: Server) -> None:
        barrier.wait()
        response = post(
            server, "/api/auth/register", json={"username": "racer", "password": PASSWORD}
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=register, args=(server,)) for server in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads)
    assert Counter(statuses) == {201: 1, 409: workers - 1}
    for server in servers.values():
        logged_in = post(
            server, "/api/auth/login", json={"username": "racer", "password": PASSWORD}
        )
        assert logged_in.status_code == 200


@pytest.mark.parametrize("name", DEMOS)
def test_demo_without_jwt_secret_runs_on_a_random_one_and_says_so(
    tmp_path: Path, name: str
) -> None:
    with running_demo(
        name, tmp_path, JWT_SECRET=None, DEMO_DB=str(tmp_path / "random.sqlite3")
    ) as server:
        registered = post(
            server, "/api/auth/register", json={"username": "alice", "password": PASSWORD}
        )
        assert registered.status_code == 201
        assert check(server, access_token(registered)).status_code == 200
    assert "JWT_SECRET is not set" in server.log()


@pytest.mark.parametrize("name", DEMOS)
def test_demo_with_a_short_jwt_secret_exits_with_a_clear_message(tmp_path: Path, name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", f"demos.{name}"],
        cwd=REPO_ROOT,
        env=demo_env(
            JWT_SECRET="too-short",
            DEMO_DB=str(tmp_path / "weak.sqlite3"),
            HOST="127.0.0.1",
            PORT="1",
        ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "JWT_SECRET" in result.stderr
    assert "32" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------ behind a proxy
#
# The test plays the reverse proxy: it connects from 127.0.0.1 and sends the headers a proxy
# adds. TRUSTED_PROXY=127.0.0.1 tells the demo to believe them; unset, it must not.

PUBLIC_ORIGIN = "https://public.example"
CREDENTIALS = {"username": "alice", "password": PASSWORD}


@pytest.mark.parametrize(
    ("trusted_proxy", "status"), [("127.0.0.1", 201), (None, 403)], ids=["trusted", "unset"]
)
def test_flask_demo_takes_the_public_host_from_x_forwarded_host_only_from_trusted_proxy(
    tmp_path: Path, trusted_proxy: str | None, status: int
) -> None:
    # No Sec-Fetch-Site: the Origin decides. Trusted, waitress makes Host public.example and
    # the scheme https, which match the Origin; unset, the app sees 127.0.0.1:<port> over http.
    headers = {
        "X-Forwarded-Host": "public.example",
        "X-Forwarded-Proto": "https",
        "Origin": PUBLIC_ORIGIN,
    }
    with running_demo(
        "flask_demo",
        tmp_path,
        JWT_SECRET=SECRET,
        DEMO_DB=str(tmp_path / "proxy.sqlite3"),
        TRUSTED_PROXY=trusted_proxy,
    ) as server:
        response = post(server, "/api/auth/register", json=CREDENTIALS, headers=headers)
    assert response.status_code == status, response.text
    if status == 403:
        assert response.json() == {"error": "cross-origin request refused"}
        assert "set-cookie" not in response.headers


@pytest.mark.parametrize("trusted_proxy", ["127.0.0.1", None], ids=["trusted", "unset"])
@pytest.mark.parametrize("name", DEMOS)
def test_the_public_https_origin_passes_behind_a_tls_proxy_that_passes_host(
    tmp_path: Path, name: str, trusted_proxy: str | None
) -> None:
    """What the README's nginx snippet sends: the browser's own Host and X-Forwarded-Proto.

    The Origin check compares hosts, not schemes, so the app's own public origin passes
    whether or not the forwarded scheme is believed.
    """
    headers = {"Host": "public.example", "X-Forwarded-Proto": "https", "Origin": PUBLIC_ORIGIN}
    with running_demo(
        name,
        tmp_path,
        JWT_SECRET=SECRET,
        DEMO_DB=str(tmp_path / "proxy.sqlite3"),
        TRUSTED_PROXY=trusted_proxy,
    ) as server:
        response = post(server, "/api/auth/register", json=CREDENTIALS, headers=headers)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("trusted_proxy", "client"),
    [("127.0.0.1", "203.0.113.7"), (None, "127.0.0.1")],
    ids=["trusted", "unset"],
)
def test_starlette_demo_logs_the_forwarded_client_address_only_from_trusted_proxy(
    tmp_path: Path, trusted_proxy: str | None, client: str
) -> None:
    with running_demo(
        "starlette_demo",
        tmp_path,
        JWT_SECRET=SECRET,
        DEMO_DB=str(tmp_path / "proxy.sqlite3"),
        TRUSTED_PROXY=trusted_proxy,
    ) as server:
        response = httpx.get(
            server.base_url + "/api/auth/check?probe=forwarded-for",
            headers={"X-Forwarded-For": "203.0.113.7"},
            timeout=TIMEOUT,
        )
        assert response.status_code == 401
    # Read after the server stopped, so its log is complete. uvicorn's access log line:
    # INFO:     <client>:<port> - "GET /api/auth/check?probe=forwarded-for HTTP/1.1" 401
    lines = [line for line in server.log().splitlines() if "probe=forwarded-for" in line]
    assert len(lines) == 1, server.log()
    assert lines[0].split()[1].rsplit(":", 1)[0] == client, lines[0]
    if trusted_proxy is None:
        assert "203.0.113.7" not in server.log()


INIT_AND_INSERT = """
import sys, time
from importlib import import_module
db = import_module(f"demos.{sys.argv[1]}.db")
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # all start together
db.init_db(sys.argv[2])
print(db.insert_user(sys.argv[2], sys.argv[4], b"$2b$12$" + b"x" * 53))
"""


def test_several_workers_creating_one_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    database = str(tmp_path / "fresh.sqlite3")
    start_at = str(time.time() + 2.0)
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                INIT_AND_INSERT,
                DEMOS[index % 2],
                database,
                start_at,
                f"worker{index}",
            ],
            cwd=REPO_ROOT,
            env=demo_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(6)
    ]
    try:
        results = [process.communicate(timeout=60) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    assert [process.returncode for process in processes] == [0] * 6, results
    ids = {stdout.strip() for stdout, _ in results}
    assert len(ids) == 6
