"""The demos' contract through real HTTP, on the servers people deploy them on.

Three deployments, each a real process on a 127.0.0.1 port with `harness.SECRET` as
JWT_SECRET: the Flask demo under waitress (`python -m demos.flask_demo`) and the Starlette
demo under uvicorn (`python -m demos.starlette_demo`), two services sharing one database,
and the same Starlette app under `uvicorn demos.starlette_demo.app:app --workers 2` on a
database of its own. Every request goes on a fresh connection with no cookie jar, so each
test says exactly which token it sends; with two workers the requests are spread over both
processes. The contract's every case is in test_demo_contract.py, through the frameworks'
test clients; this file checks what only real servers show.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.demo_helpers import (
    DEMOS,
    PASSWORD,
    demo_command,
    demo_env,
    stored_token,
    unique_username,
)
from tests.harness import DAY, WEEK, Reply, claims_of, make_token, parse_set_cookie
from tests.servers import LOOPBACK, REPO_ROOT, Server, log_count, running_server, server_env

pytestmark = pytest.mark.e2e

DEPLOYMENTS = ["flask_waitress", "starlette_uvicorn", "starlette_uvicorn_workers"]
REGISTER, LOGIN = "/api/auth/register", "/api/auth/login"
CHECK, LOGOUT = "/api/auth/check", "/api/auth/logout"


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demos") / "shared.sqlite3"


@pytest.fixture(scope="module")
def flask_waitress(shared_db: Path) -> Iterator[Server]:
    with running_server("flask_demo", demo_command("flask_demo"), demo_env(shared_db)) as server:
        yield server


@pytest.fixture(scope="module")
def starlette_uvicorn(shared_db: Path) -> Iterator[Server]:
    command, env = demo_command("starlette_demo"), demo_env(shared_db)
    with running_server("starlette_demo", command, env) as server:
        yield server


@pytest.fixture(scope="module")
def starlette_uvicorn_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = demo_env(tmp_path_factory.mktemp("workers") / "users.sqlite3")
    command = lambda port: [  # noqa: E731 - the uvicorn CLI, as the demo's README scales it
        sys.executable, "-m", "uvicorn", "demos.starlette_demo.app:app",
        "--host", LOOPBACK, "--port", str(port), "--workers", "2",
    ]  # fmt: skip
    # Ready once both worker processes say so, not merely when the shared socket answers.
    both_workers = log_count("Application startup complete", 2)
    with running_server("starlette_workers", command, env, ready=both_workers) as server:
        yield server


@pytest.fixture(params=DEPLOYMENTS)
def server(request: pytest.FixtureRequest) -> Server:
    deployed: Server = request.getfixturevalue(request.param)
    return deployed


def call(
    server: Server, method: str, path: str, *, token: str | None = None, **options: Any
) -> Reply:
    """One request with no cookie jar: only `token` is sent, as the access_token cookie."""
    cookie = None if token is None else f"access_token={token}"
    return server.request(path, method=method, cookie=cookie, **options)


def credentials(username: str, password: str = PASSWORD) -> dict[str, str]:
    return {"username": username, "password": password}


@dataclass(frozen=True)
class Account:
    username: str
    user: dict[str, str]
    token: str


@pytest.fixture(scope="module")
def accounts() -> dict[str, Account]:
    return {}


@pytest.fixture
def account(server: Server, accounts: dict[str, Account]) -> Account:
    """One registered user per server, made once: bcrypt makes every registration slow."""
    if server.name not in accounts:
        username = unique_username()
        user, token = register(server, username)
        accounts[server.name] = Account(username, user, token)
    return accounts[server.name]


def register(server: Server, username: str) -> tuple[dict[str, str], str]:
    """A new user on `server`: its JSON and the token its cookie stores."""
    response = call(server, "POST", REGISTER, json=credentials(username))
    assert response.status == 201, response.body
    return response.json, stored_token(response)


def assert_error(response: Reply, status: int) -> None:
    """The contract's error shape: `status`, JSON `{"error": "<short reason>"}`."""
    assert response.status == status, response.body
    assert response.header("content-type")[0].startswith("application/json")
    body = response.json
    assert set(body) == {"error"}, body
    assert isinstance(body["error"], str), body
    assert body["error"], body


# ----------------------------------------------------------------------------- the contract


def test_register_answers_201_with_the_user_and_the_contract_cookie(server: Server) -> None:
    username, before = unique_username(), int(time.time())
    response = call(server, "POST", REGISTER, json=credentials(username))
    assert response.status == 201, response.body
    user = response.json
    assert set(user) == {"_id", "username"}
    assert isinstance(user["_id"], str)
    assert user["username"] == username
    claims = claims_of(stored_token(response))  # the contract's attributes: no Secure
    assert claims["_id"] == user["_id"]
    assert claims["username"] == username
    assert claims["exp"] - claims["iat"] == WEEK
    assert before <= claims["iat"] <= time.time()


def test_register_of_a_taken_username_is_409_without_a_cookie(
    server: Server, account: Account
) -> None:
    again = call(server, "POST", REGISTER, json=credentials(account.username))
    assert_error(again, 409)
    assert again.set_cookies() == []


def test_register_with_an_invalid_body_is_400(server: Server) -> None:
    assert_error(call(server, "POST", REGISTER, json=credentials("ab")), 400)
    not_json = call(server, "POST", REGISTER, headers={"Content-Type": "application/json"})
    assert_error(not_json, 400)


def test_real_server_answers_an_oversized_body_with_400_json(server: Server) -> None:
    body = b'{"username": "big", "password": "' + b"x" * 200_000 + b'"}'
    response = call(
        server, "POST", REGISTER, content=body, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400)


def test_check_answers_the_user_from_the_token_and_leaves_a_fresh_cookie_alone(
    server: Server, account: Account
) -> None:
    response = call(server, "GET", CHECK, token=account.token)
    assert response.status == 200, response.body
    assert response.json == account.user
    assert response.set_cookies() == []


def test_check_without_a_token_is_401(server: Server) -> None:
    assert_error(call(server, "GET", CHECK), 401)


@pytest.mark.parametrize(
    "token",
    [
        make_token({"_id": "1", "username": "expired"}, issued=time.time() - WEEK - DAY),
        make_token({"_id": "1", "username": "wrongkey"}, "another-secret-" + "x" * 32),
        make_token({"_id": "1", "username": "alg"}, algorithm="HS512"),  # signed elsewhere
        "not.a.token",
    ],
    ids=["expired", "wrong-secret", "another-algorithm", "malformed"],
)
def test_check_with_a_bad_token_is_401(server: Server, token: str) -> None:
    response = call(server, "GET", CHECK, token=token)
    assert_error(response, 401)
    for value in response.set_cookies():  # at most a deletion, never a fresh token
        assert parse_set_cookie(value)[1] == "", value


def test_check_accepts_a_token_made_by_pyjwt_for_a_user_it_never_stored(server: Server) -> None:
    token = make_token({"_id": "node-42", "username": "fromnode"})
    response = call(server, "GET", CHECK, token=token)
    assert response.status == 200, response.body
    assert response.json == {"_id": "node-42", "username": "fromnode"}


def test_login_answers_200_with_the_user_and_a_new_cookie(server: Server, account: Account) -> None:
    response = call(server, "POST", LOGIN, json=credentials(account.username))
    assert response.status == 200, response.body
    assert response.json == account.user
    claims = claims_of(stored_token(response))
    assert (claims["_id"], claims["username"]) == (account.user["_id"], account.username)


def test_login_with_a_wrong_password_or_unknown_user_is_401_without_a_cookie(
    server: Server, account: Account
) -> None:
    wrong = call(server, "POST", LOGIN, json=credentials(account.username, "wrong-pass"))
    unknown = call(server, "POST", LOGIN, json=credentials(unique_username()))
    for response in (wrong, unknown):
        assert_error(response, 401)
        assert response.set_cookies() == []
    assert wrong.json == unknown.json


def test_logout_answers_204_and_deletes_the_cookie(server: Server) -> None:
    token = make_token({"_id": "out-1", "username": "leaving"})
    response = call(server, "POST", LOGOUT, token=token)
    assert response.status == 204, response.body
    (cookie,) = response.set_cookies()
    _, value, attributes = parse_set_cookie(cookie)
    assert value == ""
    assert attributes["max-age"] == "0", cookie
    assert attributes["path"] == "/", cookie


# ----------------------------------------------------------------------------- renewal


def test_a_token_with_under_half_its_week_left_is_renewed_for_a_fresh_week(
    server: Server,
) -> None:
    claims = {"_id": "renew-1", "username": "renewme"}
    old = make_token(claims, issued=time.time() - 4 * DAY)  # 3 days left
    before = int(time.time())
    response = call(server, "GET", CHECK, token=old)
    assert response.status == 200, response.body
    assert response.json == claims
    fresh = stored_token(response)  # exactly one, with the contract's attributes
    assert fresh != old
    renewed = claims_of(fresh)
    assert (renewed["_id"], renewed["username"]) == ("renew-1", "renewme")
    assert renewed["exp"] - renewed["iat"] == WEEK
    assert before <= renewed["iat"] <= time.time()


def test_a_token_with_over_half_its_week_left_is_not_renewed(server: Server) -> None:
    token = make_token({"_id": "renew-2", "username": "notyet"}, issued=time.time() - 3 * DAY)
    response = call(server, "GET", CHECK, token=token)
    assert response.status == 200, response.body
    assert response.set_cookies() == []


def test_logout_with_a_near_expiry_token_only_deletes_the_cookie(server: Server) -> None:
    old = make_token({"_id": "renew-3", "username": "leaving"}, issued=time.time() - 5 * DAY)
    response = call(server, "POST", LOGOUT, token=old)
    assert response.status == 204, response.body
    (cookie,) = response.set_cookies()  # the deletion, not a renewal beside it
    assert parse_set_cookie(cookie)[1] == ""


def test_login_with_a_near_expiry_token_sets_only_the_new_login(
    server: Server, account: Account
) -> None:
    old = make_token({"_id": "someone-else", "username": "other"}, issued=time.time() - 5 * DAY)
    response = call(server, "POST", LOGIN, token=old, json=credentials(account.username))
    assert response.status == 200, response.body
    assert claims_of(stored_token(response))["_id"] == account.user["_id"]


# ----------------------------------------------------------------------------- cross-site


def cross_site_headers(server: Server) -> list[dict[str, str]]:
    other_port = f"http://{LOOPBACK}:{server.port + 1}"
    return [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": other_port},  # another port, same host
        {"Origin": other_port},  # an older browser: no Sec-Fetch-Site
        {"Origin": "null"},
        {"Origin": "https://evil.example"},
        {"Origin": f"http://localhost:{server.port}"},  # another host name is another origin
    ]


def test_cross_origin_logout_is_403_and_deletes_nothing(server: Server, account: Account) -> None:
    for headers in cross_site_headers(server):
        response = call(server, "POST", LOGOUT, token=account.token, headers=headers)
        assert_error(response, 403)
        assert response.json == {"error": "cross-origin request refused"}
        assert response.set_cookies() == [], headers


def test_cross_origin_login_and_register_are_403_and_change_nothing(server: Server) -> None:
    body = credentials(unique_username())
    for headers in cross_site_headers(server):
        for path in (REGISTER, LOGIN):
            response = call(server, "POST", path, json=body, headers=headers)
            assert_error(response, 403)
            assert response.set_cookies() == [], (path, headers)
    # The refused registrations stored nothing: the right password for the name is refused.
    assert_error(call(server, "POST", LOGIN, json=body), 401)


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {}, "own-origin"],
    ids=["same-origin", "none", "no-browser-headers", "own-origin-without-sec-fetch"],
)
def test_same_origin_and_non_browser_logout_pass(
    server: Server, headers: dict[str, str] | str
) -> None:
    if headers == "own-origin":
        headers = {"Origin": server.url}
    assert isinstance(headers, dict)
    token = make_token({"_id": "out-2", "username": "leaving"})
    response = call(server, "POST", LOGOUT, token=token, headers=headers)
    assert response.status == 204, response.body
    assert len(response.set_cookies("access_token")) == 1  # the deletion


# ----------------------------------------------------------------------------- across services


@pytest.mark.parametrize(
    ("issuer", "verifier"),
    [
        ("flask_waitress", "starlette_uvicorn"),
        ("starlette_uvicorn", "flask_waitress"),
        ("flask_waitress", "starlette_uvicorn_workers"),  # which never stored the user
    ],
)
def test_a_cookie_from_one_demo_is_accepted_by_the_other(
    request: pytest.FixtureRequest, issuer: str, verifier: str
) -> None:
    issuing: Server = request.getfixturevalue(issuer)
    verifying: Server = request.getfixturevalue(verifier)
    user, token = register(issuing, unique_username())
    response = call(verifying, "GET", CHECK, token=token)
    assert response.status == 200, response.body
    assert response.json == user


@pytest.mark.parametrize(
    ("first", "second"),
    [("flask_waitress", "starlette_uvicorn"), ("starlette_uvicorn", "flask_waitress")],
)
def test_two_demos_on_one_database_share_their_users(
    request: pytest.FixtureRequest, first: str, second: str
) -> None:
    registering: Server = request.getfixturevalue(first)
    other: Server = request.getfixturevalue(second)
    username = unique_username()
    user, _ = register(registering, username)
    logged_in = call(other, "POST", LOGIN, json=credentials(username))
    assert logged_in.status == 200, logged_in.body
    assert logged_in.json == user, "the same _id on either service"
    assert call(registering, "GET", CHECK, token=stored_token(logged_in)).json == user


def test_concurrent_duplicate_registration_across_both_servers_gives_one_201(
    flask_waitress: Server, starlette_uvicorn: Server
) -> None:
    workers, body = 6, credentials(unique_username())
    barrier = threading.Barrier(workers, timeout=30)
    statuses: list[int] = []
    lock = threading.Lock()

    def register_once(server: Server) -> None:
        barrier.wait()
        status = call(server, "POST", REGISTER, json=body).status
        with lock:
            statuses.append(status)

    targets = [(flask_waitress, starlette_uvicorn)[index % 2] for index in range(workers)]
    threads = [threading.Thread(target=register_once, args=(server,)) for server in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads)
    assert Counter(statuses) == {201: 1, 409: workers - 1}
    for server in (flask_waitress, starlette_uvicorn):
        assert call(server, "POST", LOGIN, json=body).status == 200


# ----------------------------------------------------------------------------- two workers


def test_two_workers_share_users_and_accept_each_others_tokens(
    starlette_uvicorn_workers: Server,
) -> None:
    server = starlette_uvicorn_workers
    assert server.log().count("Started server process") == 2, server.log()
    username = unique_username()
    body = credentials(username)

    def register_once(_: int) -> int:
        return call(server, "POST", REGISTER, json=body).status

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(register_once, range(4)))
    assert statuses == [201, 409, 409, 409]

    def login_and_check(_: int) -> tuple[int, int, str]:
        login = call(server, "POST", LOGIN, json=body)
        check = call(server, "GET", CHECK, token=stored_token(login))
        return login.status, check.status, check.json["username"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(login_and_check, range(4)))
    assert results == [(200, 200, username)] * 4


INIT_AND_INSERT = """
import sys, time
from importlib import import_module
db = import_module(f"demos.{sys.argv[1]}.db")
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # all start together
db.init_db(sys.argv[2])
print(db.insert_user(sys.argv[2], sys.argv[4], b"$2b$12$" + b"x" * 53))
"""


def test_several_workers_creating_one_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    database, start_at = str(tmp_path / "fresh.sqlite3"), str(time.time() + 2.0)
    command = [sys.executable, "-c", INIT_AND_INSERT]
    pipes = {"stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    processes = [
        subprocess.Popen(
            [*command, DEMOS[index % 2], database, start_at, f"worker{index}"],
            cwd=REPO_ROOT,
            env=server_env(),
            text=True,
            **pipes,
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
    assert len({stdout.strip() for stdout, _ in results}) == 6


# ----------------------------------------------------------------------------- start-up


@pytest.mark.parametrize("name", DEMOS)
def test_demo_without_jwt_secret_runs_on_a_random_one_and_says_so(
    tmp_path: Path, name: str
) -> None:
    env = demo_env(tmp_path / "random.sqlite3", JWT_SECRET=None)
    with running_server(name, demo_command(name), env) as server:
        registered = call(server, "POST", REGISTER, json=credentials("alice"))
        assert registered.status == 201
        assert call(server, "GET", CHECK, token=stored_token(registered)).status == 200
    assert "JWT_SECRET is not set" in server.log()


@pytest.mark.parametrize("name", DEMOS)
def test_demo_with_a_short_jwt_secret_exits_with_a_clear_message(tmp_path: Path, name: str) -> None:
    env = demo_env(tmp_path / "weak.sqlite3", JWT_SECRET="too-short", HOST=LOOPBACK, PORT="1")
    result = subprocess.run(
        [sys.executable, "-m", f"demos.{name}"],
        cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "JWT_SECRET" in result.stderr
    assert "32" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------ behind a proxy
#
# The test plays the reverse proxy: it connects from 127.0.0.1 and sends the headers a proxy
# adds. TRUSTED_PROXY=127.0.0.1 tells the demo to believe them; unset, it must not.

PUBLIC_ORIGIN = "https://public.example"


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
    env = demo_env(tmp_path / "proxy.sqlite3", TRUSTED_PROXY=trusted_proxy)
    with running_server("flask_demo", demo_command("flask_demo"), env) as server:
        response = call(server, "POST", REGISTER, json=credentials("alice"), headers=headers)
    assert response.status == status, response.body
    if status == 403:
        assert response.json == {"error": "cross-origin request refused"}
        assert response.set_cookies() == []


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
    env = demo_env(tmp_path / "proxy.sqlite3", TRUSTED_PROXY=trusted_proxy)
    with running_server(name, demo_command(name), env) as server:
        response = call(server, "POST", REGISTER, json=credentials("alice"), headers=headers)
    assert response.status == 201, response.body


@pytest.mark.parametrize(
    ("trusted_proxy", "client"),
    [("127.0.0.1", "203.0.113.7"), (None, "127.0.0.1")],
    ids=["trusted", "unset"],
)
def test_starlette_demo_logs_the_forwarded_client_address_only_from_trusted_proxy(
    tmp_path: Path, trusted_proxy: str | None, client: str
) -> None:
    env = demo_env(tmp_path / "proxy.sqlite3", TRUSTED_PROXY=trusted_proxy)
    with running_server("starlette_demo", demo_command("starlette_demo"), env) as server:
        path = f"{CHECK}?probe=forwarded-for"
        response = call(server, "GET", path, headers={"X-Forwarded-For": "203.0.113.7"})
        assert response.status == 401
    # Read after the server stopped, so its log is complete. uvicorn's access log line:
    # INFO:     <client>:<port> - "GET /api/auth/check?probe=forwarded-for HTTP/1.1" 401
    lines = [line for line in server.log().splitlines() if "probe=forwarded-for" in line]
    assert len(lines) == 1, server.log()
    assert lines[0].split()[1].rsplit(":", 1)[0] == client, lines[0]
    if trusted_proxy is None:
        assert "203.0.113.7" not in server.log()
