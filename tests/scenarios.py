"""The core scenarios as a table, to run against any app that keeps this small contract.

The app is wrapped by `JWTCookieMiddleware(app, secret=SECRET, secure=False,
protected_paths=["/private"])` (so the cookie is `access_token`) and answers:

- `GET /`, `HEAD /`, `OPTIONS /`: 200, JSON describing the user as the middleware told it:
  `{"auth": bool, "id": identity, "name": display name, "reason": str(reason), "claims": {}}`;
- `POST /login`: logs alice (`harness.ALICE`) in; `POST /logout`: logs out;
- `GET /stream`: the same JSON as `GET /`, in several chunks;
- `GET /private`: the same JSON, behind `protected_paths`.

A scenario is a function `(client) -> None`; `client` is a `harness.Client` (`Site` is one).
Tokens are made against the real time, since a real server has no other clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.harness import (
    ALICE,
    DAY,
    MALLORY,
    SECRET,
    WEEK,
    Client,
    Reply,
    claims_of,
    make_token,
    parse_set_cookie,
)

COOKIE = "access_token"
OPTIONS = {"secret": SECRET, "secure": False, "protected_paths": ["/private"]}
# The login cookie's attributes, exactly (secure=False: no Secure).
LOGIN_ATTRIBUTES = {"httponly": "", "path": "/", "samesite": "Lax", "max-age": str(WEEK)}
CROSS_SITE = [
    [("Sec-Fetch-Site", "cross-site")],
    [("Sec-Fetch-Site", "same-site")],  # another port or subdomain: same site, other origin
    [("Origin", "http://evil.example")],  # an older browser: no Sec-Fetch-Site
    [("Origin", "null")],
]


def days_old(days: float, claims: dict[str, str] = ALICE) -> str:
    return make_token(claims, issued=time.time() - days * DAY)


def our_cookie(reply: Reply) -> tuple[str, dict[str, str]]:
    """The value and attributes of the one Set-Cookie of the reply, which must be ours."""
    assert len(reply.set_cookies()) == 1, reply.headers
    name, value, attributes = parse_set_cookie(reply.set_cookies()[0])
    assert name == COOKIE
    return value, attributes


def assert_deleted(reply: Reply) -> None:
    value, attributes = our_cookie(reply)
    assert value == ""
    assert attributes["max-age"] == "0"
    assert attributes["path"] == "/"


def a_request_without_a_cookie_is_anonymous(client: Client) -> None:
    reply = client.request()
    assert reply.seen == {"auth": False, "id": "", "name": "", "reason": "missing", "claims": {}}
    assert reply.set_cookies() == []


def the_login_cookie_logs_the_user_in(client: Client) -> None:
    login = client.request("/login", method="POST")
    assert 200 <= login.status < 300, login
    token, attributes = our_cookie(login)
    assert attributes == LOGIN_ATTRIBUTES
    claims = claims_of(token)
    assert (claims["_id"], claims["username"]) == ("1", "alice")
    assert claims["exp"] - claims["iat"] == WEEK
    reply = client.request(cookie=f"{COOKIE}={token}")
    assert reply.seen["reason"] == "ok"
    assert (reply.authenticated_as, reply.seen["name"]) == ("1", "alice")
    assert reply.seen["claims"] == {key: claims[key] for key in reply.seen["claims"]}
    assert {"_id", "username", "exp"} <= set(reply.seen["claims"])
    assert reply.set_cookies() == [], "a fresh token is not renewed"


def a_protected_path_needs_a_login(client: Client) -> None:
    refused = client.request("/private")
    assert refused.status == 401
    assert refused.json == {"error": "authentication required"}
    assert client.request("/private", cookie=f"{COOKIE}={make_token()}").authenticated_as == "1"


def a_token_past_half_its_life_is_renewed_for_a_week(client: Client) -> None:
    old = days_old(4, {**ALICE, "role": "admin"})
    reply = client.request(cookie=f"{COOKIE}={old}")
    assert reply.authenticated_as == "1"
    fresh, attributes = our_cookie(reply)
    assert attributes == LOGIN_ATTRIBUTES, "the same attributes as a login's"
    claims = claims_of(fresh)
    assert claims["exp"] - claims["iat"] == WEEK
    assert claims["iat"] > claims_of(old)["iat"]
    kept = {key: value for key, value in claims.items() if key not in ("iat", "exp", "jti", "sid")}
    assert kept == {**ALICE, "role": "admin"}, "the same claims"


def a_token_with_over_half_its_life_left_is_not_renewed(client: Client) -> None:
    reply = client.request(cookie=f"{COOKIE}={days_old(3)}")
    assert reply.authenticated_as == "1"
    assert reply.set_cookies() == []


def bad_tokens() -> list[str]:
    good = make_token()
    head, body, signature = good.split(".")
    return [
        f"{head}.{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}",  # tampered
        make_token(key="another-secret-" + "y" * 40),
        make_token(algorithm="HS512"),  # the right secret, another algorithm
        make_token(key=None, algorithm="none"),
        "not.a.jwt",
        "",
    ]


def a_bad_token_is_anonymous_and_deleted(client: Client) -> None:
    for token in bad_tokens():
        reply = client.request(cookie=f"{COOKIE}={token}")
        assert reply.seen["auth"] is False, token
        assert reply.seen["reason"] == "invalid", token
        assert_deleted(reply)


def an_expired_token_is_anonymous_and_deleted(client: Client) -> None:
    reply = client.request(cookie=f"{COOKIE}={days_old(7 + 1 / 24)}")
    assert (reply.seen["auth"], reply.seen["reason"]) == (False, "expired")
    assert_deleted(reply)


def the_logout_response_deletes_the_cookie_and_is_not_renewed(client: Client) -> None:
    reply = client.request("/logout", method="POST", cookie=f"{COOKIE}={days_old(5)}")
    assert 200 <= reply.status < 300, reply
    assert_deleted(reply)  # the one Set-Cookie: no renewal beside the deletion


def a_login_over_an_old_cookie_sets_only_the_new_login(client: Client) -> None:
    reply = client.request("/login", method="POST", cookie=f"{COOKIE}={days_old(5, MALLORY)}")
    token, _ = our_cookie(reply)
    assert claims_of(token)["_id"] == "1"


def a_cross_site_post_with_the_cookie_is_refused_and_changes_nothing(client: Client) -> None:
    # With a cookie due for renewal (not renewed either), and with a junk one.
    for cookie in (f"{COOKIE}={days_old(5)}", f"{COOKIE}=junk"):
        for headers in CROSS_SITE:
            for path in ("/logout", "/login"):
                reply = client.request(path, method="POST", cookie=cookie, headers=headers)
                assert reply.status == 403, (path, headers)
                assert reply.json == {"error": "cross-origin request refused"}
                assert reply.set_cookies() == [], (path, headers)


def a_cross_site_post_without_the_cookie_can_neither_log_in_nor_out(client: Client) -> None:
    # No ambient cookie to abuse, so the app's own CORS policy decides; but the handler's
    # login() and logout() set and delete nothing (login CSRF).
    for headers in CROSS_SITE:
        for path in ("/logout", "/login"):
            reply = client.request(path, method="POST", headers=headers)
            assert reply.status < 500, (path, headers)
            assert reply.set_cookies() == [], (path, headers)


def a_streaming_response_is_renewed_once(client: Client) -> None:
    reply = client.request("/stream", cookie=f"{COOKIE}={days_old(4)}")
    assert reply.authenticated_as == "1"
    assert our_cookie(reply)[0]


def safe_methods_pass_the_cross_site_check(client: Client) -> None:
    for method in ("GET", "HEAD", "OPTIONS"):
        cookie = f"{COOKIE}={make_token()}"
        reply = client.request(method=method, cookie=cookie, headers=CROSS_SITE[0])
        assert reply.status == 200, method
        assert reply.set_cookies() == [], method


SCENARIOS: list[Callable[[Client], None]] = [
    a_request_without_a_cookie_is_anonymous,
    the_login_cookie_logs_the_user_in,
    a_protected_path_needs_a_login,
    a_token_past_half_its_life_is_renewed_for_a_week,
    a_token_with_over_half_its_life_left_is_not_renewed,
    a_bad_token_is_anonymous_and_deleted,
    an_expired_token_is_anonymous_and_deleted,
    the_logout_response_deletes_the_cookie_and_is_not_renewed,
    a_login_over_an_old_cookie_sets_only_the_new_login,
    a_cross_site_post_with_the_cookie_is_refused_and_changes_nothing,
    a_cross_site_post_without_the_cookie_can_neither_log_in_nor_out,
    a_streaming_response_is_renewed_once,
    safe_methods_pass_the_cross_site_check,
]
