"""The demos' contract through real HTTP, on the servers people deploy them on.

Three deployments, each a real process on a 127.0.0.1 port with the same JWT_SECRET and
its own database: the Flask demo under waitress (`python -m demos.flask_demo`), the
Starlette demo under uvicorn (`python -m demos.starlette_demo`) and the same app under
`uvicorn demos.starlette_demo.app:app --workers 2`. Every request goes on a fresh
connection with no cookie jar, so each test says exactly which token it sends, and with
two workers the requests are spread over both processes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from tests.e2e_helpers import (
    COOKIE,
    COOKIE_ATTRIBUTES,
    DAY,
    PASSWORD,
    SECRET,
    WEEK,
    Server,
    access_token_cookies,
    call,
    decode_token,
    demo_command,
    demo_env,
    log_count,
    make_token,
    parse_set_cookie,
    running_server,
    stored_token,
    unique_username,
    uvicorn_command,
)

pytestmark = pytest.mark.e2e

DEPLOYMENTS = ["flask_waitress", "starlette_uvicorn", "starlette_uvicorn_workers"]


@pytest.fixture(scope="module")
def flask_waitress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = demo_env(tmp_path_factory.mktemp("flask") / "users.sqlite3")
    with running_server("flask_demo", demo_command("flask_demo"), env) as server:
        yield server


@pytest.fixture(scope="module")
def starlette_uvicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = demo_env(tmp_path_factory.mktemp("starlette") / "users.sqlite3")
    with running_server("starlette_demo", demo_command("starlette_demo"), env) as server:
        yield server


@pytest.fixture(scope="module")
def starlette_uvicorn_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = demo_env(tmp_path_factory.mktemp("starlette-workers") / "users.sqlite3")
    command = uvicorn_command("demos.starlette_demo.app:app", workers=2)
    # Ready once both worker processes say so, not merely when the shared socket answers.
    both_workers = log_count("Application startup complete", 2)
    with running_server("starlette_workers", command, env, ready=both_workers) as server:
        yield server


@pytest.fixture(params=DEPLOYMENTS)
def server(request: pytest.FixtureRequest) -> Server:
    deployed: Server = request.getfixturevalue(request.param)
    return deployed


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
    response = call(
        server, "POST", "/api/auth/register", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    return response.json(), stored_token(response)


def assert_error(response: httpx.Response, status: int) -> None:
    """The contract's error shape: `status`, JSON `{"error": "<short reason>"}`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"], str), body
    assert body["error"], body


# ----------------------------------------------------------------------------- the contract


def test_register_answers_201_with_the_user_and_the_contract_cookie(server: Server) -> None:
    username = unique_username()
    response = call(
        server, "POST", "/api/auth/register", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert set(user) == {"_id", "username"}
    assert isinstance(user["_id"], str)
    assert user["username"] == username
    cookies = access_token_cookies(response)
    assert len(cookies) == 1, cookies
    name, token, attributes = parse_set_cookie(cookies[0])
    assert name == COOKIE
    assert attributes == COOKIE_ATTRIBUTES, cookies[0]
    assert "secure" not in attributes  # COOKIE_SECURE=0
    claims = decode_token(token)
    assert claims["_id"] == user["_id"]
    assert claims["username"] == username
    assert claims["exp"] - claims["iat"] == WEEK
    assert abs(claims["iat"] - time.time()) < 60


def test_register_of_a_taken_username_is_409_without_a_cookie(
    server: Server, account: Account
) -> None:
    again = call(
        server,
        "POST",
        "/api/auth/register",
        json={"username": account.username, "password": PASSWORD},
    )
    assert_error(again, 409)
    assert access_token_cookies(again) == []


def test_register_with_an_invalid_body_is_400(server: Server) -> None:
    short_name = call(
        server, "POST", "/api/auth/register", json={"username": "ab", "password": PASSWORD}
    )
    assert_error(short_name, 400)
    not_json = call(
        server,
        "POST",
        "/api/auth/register",
        headers={"Content-Type": "application/json"},
    )
    assert_error(not_json, 400)


def test_check_answers_the_user_from_the_token_and_leaves_a_fresh_cookie_alone(
    server: Server, account: Account
) -> None:
    response = call(server, "GET", "/api/auth/check", token=account.token)
    assert response.status_code == 200, response.text
    assert response.json() == account.user
    assert access_token_cookies(response) == []


def test_check_without_a_token_is_401(server: Server) -> None:
    assert_error(call(server, "GET", "/api/auth/check"), 401)


@pytest.mark.parametrize(
    "token",
    [
        make_token({"_id": "1", "username": "expired"}, issued_at=time.time() - WEEK - DAY),
        make_token({"_id": "1", "username": "wrongkey"}, secret="another-secret-" + "x" * 32),
        "not.a.token",
    ],
    ids=["expired", "wrong-secret", "malformed"],
)
def test_check_with_a_bad_token_is_401(server: Server, token: str) -> None:
    response = call(server, "GET", "/api/auth/check", token=token)
    assert_error(response, 401)
    for value in access_token_cookies(response):  # at most a deletion, never a fresh token
        assert parse_set_cookie(value)[1] == "", value


def test_check_accepts_a_token_made_by_pyjwt_for_a_user_it_never_stored(server: Server) -> None:
    token = make_token({"_id": "node-42", "username": "fromnode"})
    response = call(server, "GET", "/api/auth/check", token=token)
    assert response.status_code == 200, response.text
    assert response.json() == {"_id": "node-42", "username": "fromnode"}


def test_login_answers_200_with_the_user_and_a_new_cookie(server: Server, account: Account) -> None:
    credentials = {"username": account.username, "password": PASSWORD}
    response = call(server, "POST", "/api/auth/login", json=credentials)
    assert response.status_code == 200, response.text
    assert response.json() == account.user
    claims = decode_token(stored_token(response))
    assert (claims["_id"], claims["username"]) == (account.user["_id"], account.username)


def test_login_with_a_wrong_password_or_unknown_user_is_401_without_a_cookie(
    server: Server, account: Account
) -> None:
    wrong = call(
        server,
        "POST",
        "/api/auth/login",
        json={"username": account.username, "password": "wrong-pass"},
    )
    unknown = call(
        server,
        "POST",
        "/api/auth/login",
        json={"username": unique_username(), "password": PASSWORD},
    )
    for response in (wrong, unknown):
        assert_error(response, 401)
        assert access_token_cookies(response) == []
    assert wrong.json() == unknown.json()


def test_logout_answers_204_and_deletes_the_cookie(server: Server) -> None:
    token = make_token({"_id": "out-1", "username": "leaving"})
    response = call(server, "POST", "/api/auth/logout", token=token)
    assert response.status_code == 204, response.text
    cookies = access_token_cookies(response)
    assert len(cookies) == 1, cookies
    _, value, attributes = parse_set_cookie(cookies[0])
    assert value == ""
    assert attributes["max-age"] == "0", cookies[0]
    assert attributes["path"] == "/", cookies[0]


# ----------------------------------------------------------------------------- renewal


def test_a_token_with_under_half_its_week_left_is_renewed_for_a_fresh_week(
    server: Server,
) -> None:
    claims = {"_id": "renew-1", "username": "renewme"}
    old = make_token(claims, issued_at=time.time() - 4 * DAY)  # 3 days left
    response = call(server, "GET", "/api/auth/check", token=old)
    assert response.status_code == 200, response.text
    assert response.json() == claims
    fresh = stored_token(response)  # exactly one, with the contract's attributes
    assert fresh != old
    renewed = decode_token(fresh)
    assert (renewed["_id"], renewed["username"]) == ("renew-1", "renewme")
    assert renewed["exp"] - renewed["iat"] == WEEK
    assert abs(renewed["exp"] - (time.time() + WEEK)) < 60


def test_a_token_with_over_half_its_week_left_is_not_renewed(server: Server) -> None:
    token = make_token({"_id": "renew-2", "username": "notyet"}, issued_at=time.time() - 3 * DAY)
    response = call(server, "GET", "/api/auth/check", token=token)
    assert response.status_code == 200, response.text
    assert access_token_cookies(response) == []


def test_logout_with_a_near_expiry_token_only_deletes_the_cookie(server: Server) -> None:
    old = make_token({"_id": "renew-3", "username": "leaving"}, issued_at=time.time() - 5 * DAY)
    response = call(server, "POST", "/api/auth/logout", token=old)
    assert response.status_code == 204, response.text
    cookies = access_token_cookies(response)
    assert len(cookies) == 1, cookies  # the deletion, not a renewal beside it
    assert parse_set_cookie(cookies[0])[1] == ""


def test_login_with_a_near_expiry_token_sets_only_the_new_login(
    server: Server, account: Account
) -> None:
    old = make_token({"_id": "someone-else", "username": "other"}, issued_at=time.time() - 5 * DAY)
    credentials = {"username": account.username, "password": PASSWORD}
    response = call(server, "POST", "/api/auth/login", token=old, json=credentials)
    assert response.status_code == 200, response.text
    assert decode_token(stored_token(response))["_id"] == account.user["_id"]


# ----------------------------------------------------------------------------- cross-site


def cross_site_headers(server: Server) -> list[dict[str, str]]:
    other_port = f"http://127.0.0.1:{server.port + 1}"
    return [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": other_port},  # another port, same host
        {"Origin": other_port},  # an older browser: no Sec-Fetch-Site
        {"Origin": "null"},
        {"Origin": f"http://localhost:{server.port}"},  # another host name is another origin
    ]


def test_cross_origin_logout_is_403_and_deletes_nothing(server: Server, account: Account) -> None:
    for headers in cross_site_headers(server):
        response = call(server, "POST", "/api/auth/logout", token=account.token, headers=headers)
        assert_error(response, 403)
        assert response.headers.get_list("set-cookie") == [], headers


def test_cross_origin_login_and_register_are_403_and_change_nothing(server: Server) -> None:
    username = unique_username()
    body = {"username": username, "password": PASSWORD}
    for headers in cross_site_headers(server):
        for path in ("/api/auth/register", "/api/auth/login"):
            response = call(server, "POST", path, json=body, headers=headers)
            assert_error(response, 403)
            assert response.headers.get_list("set-cookie") == [], (path, headers)
    # The refused registrations stored nothing: the right password for the name is refused.
    login = call(server, "POST", "/api/auth/login", json=body)
    assert_error(login, 401)


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
    response = call(server, "POST", "/api/auth/logout", token=token, headers=headers)
    assert response.status_code == 204, response.text
    assert len(access_token_cookies(response)) == 1  # the deletion


# ----------------------------------------------------------------------------- across services


@pytest.mark.parametrize(
    ("issuer", "verifier"),
    [
        ("flask_waitress", "starlette_uvicorn"),
        ("starlette_uvicorn", "flask_waitress"),
        ("flask_waitress", "starlette_uvicorn_workers"),
    ],
)
def test_a_cookie_from_one_demo_is_accepted_by_the_other(
    request: pytest.FixtureRequest, issuer: str, verifier: str
) -> None:
    issuing: Server = request.getfixturevalue(issuer)
    verifying: Server = request.getfixturevalue(verifier)
    user, token = register(issuing, unique_username())
    response = call(verifying, "GET", "/api/auth/check", token=token)
    assert response.status_code == 200, response.text
    assert response.json() == user


# ----------------------------------------------------------------------------- two workers


def test_two_workers_share_users_and_accept_each_others_tokens(
    starlette_uvicorn_workers: Server,
) -> None:
    server = starlette_uvicorn_workers
    username = unique_username()
    body = {"username": username, "password": PASSWORD}

    def register_once(_: int) -> int:
        return call(server, "POST", "/api/auth/register", json=body).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(register_once, range(4)))
    assert statuses == [201, 409, 409, 409]

    def login_and_check(_: int) -> tuple[int, int, str]:
        login = call(server, "POST", "/api/auth/login", json=body)
        token = stored_token(login)
        check = call(server, "GET", "/api/auth/check", token=token)
        return login.status_code, check.status_code, check.json()["username"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(login_and_check, range(4)))
    assert results == [(200, 200, username)] * 4


def test_two_workers_both_started(starlette_uvicorn_workers: Server) -> None:
    log = starlette_uvicorn_workers.log()
    assert log.count("Started server process") == 2, log


def test_token_signed_elsewhere_with_another_algorithm_is_refused(server: Server) -> None:
    claims: dict[str, Any] = {"_id": "1", "username": "alg", "iat": int(time.time())}
    claims["exp"] = claims["iat"] + WEEK
    token = jwt.encode(claims, SECRET.encode(), algorithm="HS512")
    assert_error(call(server, "GET", "/api/auth/check", token=token), 401)
