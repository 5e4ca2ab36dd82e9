"""The HTTP contract (shared/CONTRACT.md), run once against each demo through its framework's
test client: Flask's app.test_client() and Starlette's TestClient."""

from __future__ import annotations

import asyncio
import codecs
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bcrypt
import jwt
import pytest

from tests.demo_helpers import (
    DEMOS,
    PASSWORD,
    DemoClient,
    demo_module,
    make_demo,
    stored_token,
)
from tests.harness import ALICE, DAY, SECRET, WEEK, claims_of, make_token, parse_set_cookie
from tests.scenarios import LOGIN_ATTRIBUTES

REGISTER = "/api/auth/register"
LOGIN = "/api/auth/login"
CHECK = "/api/auth/check"
LOGOUT = "/api/auth/logout"


@pytest.fixture(params=DEMOS)
def demo(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    return make_demo(request.param, tmp_path, monkeypatch)


def user_rows(demo: DemoClient, username: str) -> list[sqlite3.Row]:
    """Read the demo's database through a connection of our own (what a restart would see)."""
    connection = sqlite3.connect(demo.db_path)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(
            "SELECT id, username, password_hash FROM users WHERE username = ?", (username,)
        ).fetchall()
    finally:
        connection.close()


def assert_json_error(reply: Any, status: int) -> None:
    assert reply.status == status, (reply.status, reply.body)
    body = reply.json
    assert set(body) == {"error"}
    assert isinstance(body["error"], str)
    assert body["error"]


# ------------------------------------------------------------------------------ the page


def test_index_page_is_self_contained_html_with_stable_ids(demo: DemoClient) -> None:
    reply = demo.get("/")
    assert reply.status == 200
    assert reply.header("content-type")[0].startswith("text/html")
    page = reply.body.decode()
    for element_id in (
        "register-form",
        "register-username",
        "register-password",
        "register-submit",
        "login-form",
        "login-username",
        "login-password",
        "login-submit",
        "whoami",
        "logout",
        "message",
    ):
        assert f'id="{element_id}"' in page, element_id
    # Self-contained: no script, style sheet or image is fetched from anywhere.
    assert "<script src" not in page
    assert 'rel="stylesheet"' not in page
    assert "http://" not in page
    assert "https://" not in page
    assert 'src="//' not in page
    assert 'href="//' not in page


# ------------------------------------------------------------------------------ register


def test_register_answers_201_with_the_user_and_a_login_cookie(demo: DemoClient) -> None:
    before = int(time.time())
    reply = demo.register("alice", PASSWORD)
    assert reply.status == 201
    user = reply.json
    assert set(user) == {"_id", "username"}
    assert isinstance(user["_id"], str)
    assert user["username"] == "alice"
    claims = claims_of(stored_token(reply))
    assert claims["_id"] == user["_id"]
    assert claims["username"] == "alice"
    assert claims["exp"] - claims["iat"] == WEEK
    assert before <= claims["iat"] <= time.time()


def test_login_cookie_has_the_contract_attributes_and_no_secure_by_default(
    demo: DemoClient,
) -> None:
    (cookie,) = demo.register("alice", PASSWORD).set_cookies("access_token")
    assert parse_set_cookie(cookie)[2] == LOGIN_ATTRIBUTES  # no "secure"


@pytest.mark.parametrize("name", DEMOS)
def test_login_cookie_is_secure_when_configured(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = make_demo(name, tmp_path, monkeypatch, secure=True)
    (cookie,) = demo.register("alice", PASSWORD).set_cookies()
    # Named access_token as the contract says, not the middleware's __Host- default.
    name, _, attributes = parse_set_cookie(cookie)
    assert name == "access_token"
    assert attributes == {**LOGIN_ATTRIBUTES, "secure": ""}


def test_register_commits_the_user_with_a_bcrypt_hash_before_answering(demo: DemoClient) -> None:
    reply = demo.register("alice", PASSWORD)
    rows = user_rows(demo, "alice")
    assert len(rows) == 1
    assert str(rows[0]["id"]) == reply.json["_id"]
    stored = rows[0]["password_hash"]
    assert stored.startswith("$2b$")
    assert PASSWORD not in stored
    assert bcrypt.checkpw(PASSWORD.encode(), stored.encode())


def test_database_is_created_in_wal_mode(demo: DemoClient) -> None:
    connection = sqlite3.connect(demo.db_path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


def test_register_of_a_taken_username_answers_409_and_keeps_one_row(demo: DemoClient) -> None:
    assert demo.register("alice", PASSWORD).status == 201
    reply = demo.register("alice", "another password")
    assert_json_error(reply, 409)
    assert reply.set_cookies("access_token") == []
    assert len(user_rows(demo, "alice")) == 1


def test_usernames_are_case_sensitive(demo: DemoClient) -> None:
    first, second = demo.register("alice", PASSWORD), demo.register("Alice", PASSWORD)
    assert (first.status, second.status) == (201, 201)
    assert first.json["_id"] != second.json["_id"]


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("ab", id="too-short"),
        pytest.param("a" * 21, id="too-long"),
        pytest.param("", id="empty"),
        pytest.param("bob!", id="punctuation"),
        pytest.param("bob smith", id="space"),
        pytest.param("bob_1", id="underscore"),
        pytest.param("alice\n", id="trailing-newline"),
        pytest.param("ålice", id="latin-letter-with-ring"),
        pytest.param("名前です", id="cjk"),
        pytest.param("\uff41\uff42\uff43", id="fullwidth-latin"),
        pytest.param("١٢٣٤", id="arabic-indic-digits"),
        pytest.param("bob\ud800", id="lone-surrogate"),
    ],
)
def test_register_refuses_usernames_other_than_3_to_20_ascii_letters_or_digits(
    demo: DemoClient, username: str
) -> None:
    reply = demo.register(username, PASSWORD)
    assert_json_error(reply, 400)
    assert reply.set_cookies("access_token") == []


@pytest.mark.parametrize("username", ["abc", "A1b2C3", "x" * 20, "2024"])
def test_register_accepts_3_to_20_ascii_letters_or_digits(demo: DemoClient, username: str) -> None:
    assert demo.register(username, PASSWORD).status == 201


@pytest.mark.parametrize(
    ("password", "status"),
    [
        pytest.param("a" * 7, 400, id="7-bytes"),
        pytest.param("a" * 8, 201, id="8-bytes"),
        pytest.param("éééé", 201, id="4-chars-8-bytes"),
        pytest.param("a" * 72, 201, id="72-bytes"),
        pytest.param("a" * 73, 400, id="73-bytes"),
        pytest.param("é" * 36, 201, id="36-two-byte-chars-72-bytes"),
        pytest.param("é" * 36 + "a", 400, id="37-chars-73-bytes"),
        pytest.param("€" * 24, 201, id="24-three-byte-chars-72-bytes"),
        pytest.param("a" * 1000, 400, id="1000-bytes"),
        pytest.param("pass\u0000word", 201, id="nul-inside"),
    ],
)
def test_register_password_length_is_8_to_72_bytes_of_utf8(
    demo: DemoClient, password: str, status: int
) -> None:
    reply = demo.register("alice", password)
    assert reply.status == status, reply.body
    if status == 400:
        assert_json_error(reply, 400)
        assert user_rows(demo, "alice") == []
    else:
        assert demo.login("alice", password).status == 200


# ------------------------------------------------------------------------------ login


def test_login_answers_200_with_the_user_and_a_fresh_cookie(demo: DemoClient) -> None:
    registered = demo.register("alice", PASSWORD).json
    reply = demo.login("alice", PASSWORD)
    assert reply.status == 200
    assert reply.json == registered
    claims = claims_of(stored_token(reply))
    assert (claims["_id"], claims["username"]) == (registered["_id"], "alice")
    assert claims["exp"] - claims["iat"] == WEEK


def test_login_with_a_wrong_password_or_an_unknown_user_gets_the_same_401(
    demo: DemoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo.register("alice", PASSWORD)
    checked: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password: bytes, hashed: bytes) -> bool:
        checked.append(hashed)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)
    wrong_password = demo.login("alice", "not the password")
    unknown_user = demo.login("nobody", PASSWORD)
    assert_json_error(wrong_password, 401)
    assert_json_error(unknown_user, 401)
    assert wrong_password.body == unknown_user.body
    assert wrong_password.set_cookies() == unknown_user.set_cookies() == []
    # The unknown user was checked against a (dummy) hash too: about the same time for both.
    assert len(checked) == 2
    assert checked[1][:7] == checked[0][:7]  # same algorithm and cost: "$2b$12$"


@pytest.mark.parametrize("username", ["ab", "bob!", "名前です", "bob\ud800", "x" * 500], ids=repr)
def test_login_with_a_username_that_cannot_exist_is_401_not_400_or_500(
    demo: DemoClient, username: str
) -> None:
    assert_json_error(demo.login(username, PASSWORD), 401)


def test_login_accepts_a_72_byte_password(demo: DemoClient) -> None:
    password = "€" * 24
    demo.register("alice", password)
    assert demo.login("alice", password).status == 200


def test_login_refuses_a_password_over_72_bytes_with_400_and_never_truncates(
    demo: DemoClient,
) -> None:
    password = "a" * 72
    demo.register("alice", password)
    # bcrypt would see only the first 72 bytes, which match: truncating would log this in.
    reply = demo.login("alice", password + "b")
    assert_json_error(reply, 400)
    assert reply.set_cookies("access_token") == []


def test_login_with_a_short_password_is_just_wrong(demo: DemoClient) -> None:
    demo.register("alice", PASSWORD)
    assert_json_error(demo.login("alice", ""), 401)


# ------------------------------------------------------------------------------ bad bodies

VALID = b'{"username": "alice", "password": "correct horse"}'

BAD_BODIES = [
    pytest.param(VALID, None, id="no-content-type"),
    pytest.param(VALID, "text/plain", id="text-plain"),
    pytest.param(b"username=alice&password=x", "application/x-www-form-urlencoded", id="form"),
    pytest.param(VALID, "multipart/form-data; boundary=x", id="multipart"),
    pytest.param(b"", "application/json", id="empty"),
    pytest.param(b"{", "application/json", id="invalid-json"),
    pytest.param(b"{'username': 'alice'}", "application/json", id="single-quotes"),
    pytest.param(b"\xff\xfe\xfa", "application/json", id="invalid-utf8"),
    pytest.param(b"[]", "application/json", id="array"),
    pytest.param(b'["alice", "correct horse"]', "application/json", id="array-of-strings"),
    pytest.param(b"42", "application/json", id="number"),
    pytest.param(b'"alice"', "application/json", id="string"),
    pytest.param(b"null", "application/json", id="null"),
    pytest.param(b"true", "application/json", id="boolean"),
    pytest.param(b"{}", "application/json", id="empty-object"),
    pytest.param(b'{"password": "correct horse"}', "application/json", id="no-username"),
    pytest.param(b'{"username": "alice"}', "application/json", id="no-password"),
    pytest.param(
        b'{"username": 42, "password": "correct horse"}', "application/json", id="username-number"
    ),
    pytest.param(
        b'{"username": null, "password": "correct horse"}', "application/json", id="username-null"
    ),
    pytest.param(
        b'{"username": ["alice"], "password": "correct horse"}',
        "application/json",
        id="username-array",
    ),
    pytest.param(
        b'{"username": "alice", "password": null}', "application/json", id="password-null"
    ),
    pytest.param(
        b'{"username": "alice", "password": 12345678}', "application/json", id="password-number"
    ),
    pytest.param(
        b'{"username": "alice", "password": {"a": 1}}', "application/json", id="password-object"
    ),
    pytest.param(
        b'{"username": "alice", "password": "\\ud800\\udc00\\ud800xxxxxxxx"}',
        "application/json",
        id="password-lone-surrogate",
    ),
    pytest.param(
        b'{"username": "alice", "password": "correct horse", "pad": "' + b"x" * 5000 + b'"}',
        "application/json",
        id="oversized-5kb",
    ),
    pytest.param(b"[" * 3000 + b"]" * 3000, "application/json", id="deeply-nested"),
    pytest.param(b'{"a":' * 700 + b"1" + b"}" * 700, "application/json", id="deeply-nested-obj"),
]


@pytest.mark.parametrize("path", [REGISTER, LOGIN])
@pytest.mark.parametrize(("body", "content_type"), BAD_BODIES)
def test_every_malformed_body_gets_400_json_never_500(
    demo: DemoClient, path: str, body: bytes, content_type: str | None
) -> None:
    reply = demo.post(path, body=body, content_type=content_type)
    assert_json_error(reply, 400)
    assert reply.set_cookies("access_token") == []


def test_a_much_larger_body_is_also_400_json(demo: DemoClient) -> None:
    body = b'{"username": "alice", "password": "' + b"x" * 1_000_000 + b'"}'
    assert_json_error(demo.post(REGISTER, body=body, content_type="application/json"), 400)


def test_json_content_type_with_a_charset_parameter_is_accepted(demo: DemoClient) -> None:
    reply = demo.post(REGISTER, body=VALID, content_type="application/json; charset=utf-8")
    assert reply.status == 201


# RFC 8259 §8.1: JSON on the network is UTF-8. json.loads(bytes) and Flask's get_json() would
# also guess UTF-16 and UTF-32, which a filter that reads only UTF-8 does not see through.
NOT_UTF8_BODIES = [
    pytest.param(codecs.BOM_UTF16_LE + VALID.decode().encode("utf-16-le"), id="utf-16-le-bom"),
    pytest.param(VALID.decode().encode("utf-16-le"), id="utf-16-le"),
    pytest.param(codecs.BOM_UTF16_BE + VALID.decode().encode("utf-16-be"), id="utf-16-be-bom"),
    pytest.param(VALID.decode().encode("utf-16-be"), id="utf-16-be"),
    pytest.param(codecs.BOM_UTF32_LE + VALID.decode().encode("utf-32-le"), id="utf-32-le-bom"),
    pytest.param(VALID.decode().encode("utf-32-le"), id="utf-32-le"),
    pytest.param(codecs.BOM_UTF32_BE + VALID.decode().encode("utf-32-be"), id="utf-32-be-bom"),
    pytest.param(VALID.decode().encode("utf-32-be"), id="utf-32-be"),
]


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-16"],
    ids=["json", "charset"],
)
@pytest.mark.parametrize("body", NOT_UTF8_BODIES)
def test_register_with_a_body_not_in_utf8_is_400_and_creates_no_user(
    demo: DemoClient, body: bytes, content_type: str
) -> None:
    reply = demo.post(REGISTER, body=body, content_type=content_type)
    assert_json_error(reply, 400)
    assert reply.set_cookies("access_token") == []
    assert user_rows(demo, "alice") == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-16"],
    ids=["json", "charset"],
)
@pytest.mark.parametrize("body", NOT_UTF8_BODIES)
def test_login_with_a_body_not_in_utf8_is_400_even_with_the_right_password(
    demo: DemoClient, body: bytes, content_type: str
) -> None:
    assert demo.register("alice", PASSWORD).status == 201  # VALID holds these credentials
    reply = demo.post(LOGIN, body=body, content_type=content_type)
    assert_json_error(reply, 400)
    assert reply.set_cookies("access_token") == []


def test_extra_fields_are_ignored(demo: DemoClient) -> None:
    reply = demo.post(REGISTER, json={"username": "alice", "password": PASSWORD, "admin": True})
    assert reply.status == 201
    assert reply.json["username"] == "alice"


# ------------------------------------------------------------------------------ check


def test_check_without_a_token_is_401_json(demo: DemoClient) -> None:
    reply = demo.get(CHECK)
    assert_json_error(reply, 401)
    assert reply.set_cookies("access_token") == []


def test_check_answers_200_with_the_user_from_the_login_cookie(demo: DemoClient) -> None:
    registered = demo.register("alice", PASSWORD)
    reply = demo.get(CHECK, token=stored_token(registered))
    assert reply.status == 200
    assert reply.json == registered.json


def test_check_answers_from_the_token_alone_for_a_user_not_in_the_database(
    demo: DemoClient,
) -> None:
    token = make_token({"_id": "65a1f0c2e4b0a1b2c3d4e5f6", "username": "ghost"})
    reply = demo.get(CHECK, token=token)
    assert reply.status == 200
    assert reply.json == {"_id": "65a1f0c2e4b0a1b2c3d4e5f6", "username": "ghost"}


def test_check_accepts_a_pyjwt_token_shaped_like_node_jsonwebtoken_7d(demo: DemoClient) -> None:
    # jsonwebtoken.sign({_id, username}, secret, {expiresIn: '7d'}): HS256, iat and exp = iat+7d,
    # the secret used as its UTF-8 bytes, header {"alg": "HS256", "typ": "JWT"}.
    nodeuser = {"_id": "42", "username": "nodeuser"}
    token = make_token(nodeuser, SECRET.encode("utf-8"), headers={"typ": "JWT"})
    reply = demo.get(CHECK, token=token)
    assert reply.status == 200
    assert reply.json == {"_id": "42", "username": "nodeuser"}
    assert reply.set_cookies("access_token") == []  # a fresh token is not renewed


def bad_tokens() -> list[Any]:
    now = time.time()
    user = {"_id": "1", "username": "alice"}
    good = make_token(user)
    header, payload, signature = good.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return [
        pytest.param(make_token(user, issued=now - WEEK - 3600), id="expired"),
        pytest.param(f"{header}.{payload}.{flipped}", id="tampered-signature"),
        pytest.param(make_token(user, "another secret of at least 32 bytes!!"), id="wrong-secret"),
        pytest.param(make_token(user, SECRET.encode()[:32]), id="secret-prefix"),
        pytest.param(make_token(user, "", algorithm="none"), id="alg-none"),
        pytest.param(make_token(user, algorithm="HS512"), id="hs512-same-secret"),
        pytest.param(make_token(user, algorithm="HS384"), id="hs384-same-secret"),
        pytest.param("not.a.token", id="garbage"),
        pytest.param("", id="empty"),
        pytest.param(make_token(user, issued=now + 3600), id="issued-in-the-future"),
    ]


@pytest.mark.parametrize("token", bad_tokens())
def test_check_treats_a_bad_token_as_no_token(demo: DemoClient, token: str) -> None:
    reply = demo.get(CHECK, token=token)
    assert_json_error(reply, 401)
    assert [c for c in reply.set_cookies() if parse_set_cookie(c)[1]] == [], "no fresh token"


def test_check_refuses_a_token_signed_with_the_hex_decoded_secret(demo: DemoClient) -> None:
    hex_secret = "ab" * 32
    token = make_token(ALICE, bytes.fromhex(hex_secret))
    demo = make_demo_like(demo, secret=hex_secret)
    assert_json_error(demo.get(CHECK, token=token), 401)
    assert demo.get(CHECK, token=make_token(ALICE, hex_secret)).status == 200


def make_demo_like(demo: DemoClient, *, secret: str) -> DemoClient:
    app = demo_module(demo.name).create_app(db_path=str(demo.db_path), secret=secret, secure=False)
    return DemoClient(demo.name, app, demo.db_path)


@pytest.mark.parametrize(
    "claims",
    [{"username": "alice"}, {"_id": "1"}, {"_id": 1, "username": "alice"}, {"sub": "1"}],
    ids=["no-_id", "no-username", "numeric-_id", "sub-only"],
)
def test_check_refuses_a_valid_token_that_carries_no_string_user(
    demo: DemoClient, claims: dict[str, Any]
) -> None:
    assert_json_error(demo.get(CHECK, token=make_token(claims)), 401)


# ------------------------------------------------------------------------------ renewal


def test_check_renews_a_token_with_less_than_half_its_life_left(demo: DemoClient) -> None:
    old = make_token({"_id": "7", "username": "alice"}, issued=time.time() - 4 * DAY)
    before = int(time.time())
    reply = demo.get(CHECK, token=old)
    assert reply.status == 200
    assert reply.json == {"_id": "7", "username": "alice"}
    fresh = stored_token(reply)  # with the contract's attributes
    assert fresh != old
    claims = claims_of(fresh)
    assert (claims["_id"], claims["username"]) == ("7", "alice")
    assert before + WEEK <= claims["exp"] <= time.time() + WEEK


def test_check_does_not_renew_a_token_with_more_than_half_its_life_left(
    demo: DemoClient,
) -> None:
    token = make_token({"_id": "7", "username": "alice"}, issued=time.time() - 3 * DAY)
    reply = demo.get(CHECK, token=token)
    assert reply.status == 200
    assert reply.set_cookies("access_token") == []


def test_logout_response_is_not_renewed(demo: DemoClient) -> None:
    old = make_token({"_id": "7", "username": "alice"}, issued=time.time() - 4 * DAY)
    reply = demo.post(LOGOUT, token=old)
    assert reply.status == 204
    (cookie,) = reply.set_cookies("access_token")
    assert cookie.startswith("access_token=;")


def test_login_response_over_a_near_expiry_token_carries_only_the_new_login(
    demo: DemoClient,
) -> None:
    registered = demo.register("alice", PASSWORD).json
    old = make_token({"_id": "99", "username": "someone"}, issued=time.time() - 4 * DAY)
    reply = demo.login("alice", PASSWORD, token=old)
    assert reply.status == 200
    assert claims_of(stored_token(reply))["_id"] == registered["_id"]


# ------------------------------------------------------------------------------ logout


def test_logout_answers_204_and_deletes_the_cookie(demo: DemoClient) -> None:
    token = stored_token(demo.register("alice", PASSWORD))
    reply = demo.post(LOGOUT, token=token)
    assert reply.status == 204
    assert reply.body == b""
    (cookie,) = reply.set_cookies("access_token")
    _, value, attributes = parse_set_cookie(cookie)
    assert value == ""
    assert {**LOGIN_ATTRIBUTES, "max-age": "0"}.items() <= attributes.items()


def test_logout_without_a_cookie_still_answers_204_and_deletes(demo: DemoClient) -> None:
    reply = demo.post(LOGOUT)
    assert reply.status == 204
    assert [parse_set_cookie(c)[:2] for c in reply.set_cookies()] == [("access_token", "")]


# ------------------------------------------------------------------------------ cross-site


CROSS_SITE_HEADERS = [
    pytest.param({"Origin": "https://evil.example"}, id="foreign-origin"),
    pytest.param({"Origin": "null"}, id="origin-null"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="sec-fetch-cross-site"),
    pytest.param({"Sec-Fetch-Site": "same-site"}, id="sec-fetch-same-site"),
    pytest.param({"Sec-Fetch-Site": "cross-site", "Origin": "SELF"}, id="sec-fetch-wins"),
]


def resolve(headers: dict[str, str], demo: DemoClient) -> dict[str, str]:
    return {key: demo.origin if value == "SELF" else value for key, value in headers.items()}


@pytest.mark.parametrize("with_cookie", [True, False], ids=["with-cookie", "without-cookie"])
@pytest.mark.parametrize("headers", CROSS_SITE_HEADERS)
@pytest.mark.parametrize("path", [REGISTER, LOGIN, LOGOUT])
def test_cross_site_post_is_refused_with_403_and_changes_nothing(
    demo: DemoClient, path: str, headers: dict[str, str], with_cookie: bool
) -> None:
    """With or without the cookie, as the contract says: the demos use
    cross_site_protection="strict" (a cross-site form must not log anyone in or out)."""
    demo.register("alice", PASSWORD)
    token = make_token(ALICE, issued=time.time() - 4 * DAY) if with_cookie else None
    reply = demo.post(
        path,
        json={"username": "mallory", "password": PASSWORD}
        if path == REGISTER
        else {"username": "alice", "password": PASSWORD},
        token=token,
        headers=resolve(headers, demo),
    )
    assert reply.status == 403
    assert reply.json == {"error": "cross-origin request refused"}
    assert reply.set_cookies() == []
    assert user_rows(demo, "mallory") == []


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": "SELF"}, id="own-origin"),
        pytest.param({"Sec-Fetch-Site": "same-origin"}, id="sec-fetch-same-origin"),
        pytest.param({"Sec-Fetch-Site": "none"}, id="sec-fetch-none"),
        pytest.param({"Sec-Fetch-Site": "same-origin", "Origin": "SELF"}, id="browser-fetch"),
        pytest.param({}, id="non-browser-client"),
    ],
)
def test_same_origin_and_non_browser_posts_pass(demo: DemoClient, headers: dict[str, str]) -> None:
    reply = demo.register("alice", PASSWORD, headers=resolve(headers, demo))
    assert reply.status == 201


def test_cross_site_get_check_is_answered(demo: DemoClient) -> None:
    token = make_token(ALICE)
    reply = demo.get(CHECK, token=token, headers={"Sec-Fetch-Site": "cross-site"})
    assert reply.status == 200


# ------------------------------------------------------------------------------ errors


def test_unknown_path_is_404_json(demo: DemoClient) -> None:
    assert_json_error(demo.get("/api/auth/nothing-here"), 404)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", REGISTER), ("GET", LOGIN), ("GET", LOGOUT), ("PUT", CHECK)]
)
def test_wrong_method_is_405_json_with_allow(demo: DemoClient, method: str, path: str) -> None:
    reply = demo.request(method, path)
    assert_json_error(reply, 405)
    assert reply.header("allow")


def test_an_unexpected_failure_is_answered_with_json_500(
    demo: DemoClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(demo_module(demo.name).db, "find_user", broken)
    reply = demo.login("alice", PASSWORD)
    assert_json_error(reply, 500)
    assert b"database on fire" not in reply.body


# ------------------------------------------------------------------------------ concurrency


def test_concurrent_duplicate_registration_gives_one_201_and_the_rest_409(
    demo: DemoClient,
) -> None:
    workers = 6
    barrier = threading.Barrier(workers, timeout=30)
    statuses: list[int] = []
    lock = threading.Lock()

    def register() -> None:
        client = DemoClient(demo.name, demo.app, demo.db_path)  # one client per thread
        barrier.wait()
        status = client.register("alice", PASSWORD).status
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=register) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert Counter(statuses) == {201: 1, 409: workers - 1}
    assert len(user_rows(demo, "alice")) == 1


def test_starlette_demo_runs_bcrypt_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = make_demo("starlette_demo", tmp_path, monkeypatch)
    on_loop: list[bool] = []

    def recording(real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            try:
                asyncio.get_running_loop()
                on_loop.append(True)
            except RuntimeError:
                on_loop.append(False)
            return real(*args)

        return wrapper

    monkeypatch.setattr(bcrypt, "hashpw", recording(bcrypt.hashpw))
    monkeypatch.setattr(bcrypt, "checkpw", recording(bcrypt.checkpw))
    assert demo.register("alice", PASSWORD).status == 201
    assert demo.login("alice", PASSWORD).status == 200
    assert demo.login("nobody", PASSWORD).status == 401
    assert on_loop == [False, False, False]


# ------------------------------------------------------------------------------ settings


@pytest.mark.parametrize("name", DEMOS)
def test_a_jwt_secret_shorter_than_32_bytes_is_refused_at_start(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_demo(name, tmp_path, monkeypatch)  # imports the module with a good environment
    monkeypatch.setenv("JWT_SECRET", "x" * 31)
    with pytest.raises(ValueError, match="JWT_SECRET"):
        demo_module(name).create_app(db_path=str(tmp_path / "weak.sqlite3"))


@pytest.mark.parametrize("name", DEMOS)
def test_without_jwt_secret_a_random_one_is_made_and_announced_on_stderr(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_demo(name, tmp_path, monkeypatch)
    monkeypatch.delenv("JWT_SECRET")
    capsys.readouterr()
    app = demo_module(name).create_app(db_path=str(tmp_path / "random.sqlite3"), secure=False)
    assert "JWT_SECRET is not set" in capsys.readouterr().err
    demo = DemoClient(name, app, tmp_path / "random.sqlite3")
    token = stored_token(demo.register("alice", PASSWORD))
    assert demo.get(CHECK, token=token).status == 200
    with pytest.raises(jwt.InvalidSignatureError):
        claims_of(token)  # not signed with any fixed secret


@pytest.mark.parametrize("name", DEMOS)
def test_cookie_secure_1_in_the_environment_sets_secure(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_demo(name, tmp_path, monkeypatch)
    monkeypatch.setenv("COOKIE_SECURE", "1")
    app = demo_module(name).create_app(db_path=str(tmp_path / "s.sqlite3"), secret=SECRET)
    reply = DemoClient(name, app, tmp_path / "s.sqlite3").register("alice", PASSWORD)
    (cookie,) = reply.set_cookies()
    name, _, attributes = parse_set_cookie(cookie)
    assert name == "access_token"
    assert "secure" in attributes
