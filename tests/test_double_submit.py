"""The opt-in double-submit token: ``csrf_token`` cookie echoed in ``X-CSRF-Token``."""

from __future__ import annotations

import pytest

from jwtcookie._request.double_submit import DoubleSubmit
from tests.harness import (
    DAY,
    Clock,
    Reply,
    Site,
    assert_anonymous,
    claims_of,
    make_token,
    parse_set_cookie,
)


def logged_in(site: Site, csrf_name: str = "csrf_token") -> tuple[str, str]:
    reply = site.request("/login", method="POST")
    value, csrf = reply.cookie(site.cookie_name), reply.cookie(csrf_name)
    assert value
    assert csrf
    return value, csrf


def post(site: Site, cookie: str, header: str | bytes | None = None, path: str = "/") -> Reply:
    headers = [] if header is None else [("x-csrf-token", header)]
    return site.request(path, method="POST", cookie=cookie, headers=headers)


def test_off_by_default(mode: str) -> None:
    site = Site(mode)
    reply = site.request("/login", method="POST")
    assert reply.cookie("csrf_token") is None
    assert post(site, f"access_token={reply.cookie()}").authenticated_as == "1"


def test_login_sets_a_readable_csrf_cookie_with_the_same_attributes(mode: str) -> None:
    site = Site(
        mode, double_submit=True, domain="example.com", path="/", samesite="Strict", secure=True
    )
    assert site.cookie_name == "__Secure-access_token"
    reply = site.request("/login", method="POST")
    [auth_cookie] = reply.set_cookies(site.cookie_name)
    [csrf_cookie] = reply.set_cookies("__Secure-csrf_token")
    auth, csrf = parse_set_cookie(auth_cookie)[2], parse_set_cookie(csrf_cookie)[2]
    assert "httponly" in auth
    assert "httponly" not in csrf, "the page's script must read it"
    assert {k: v for k, v in auth.items() if k != "httponly"} == csrf
    value = reply.cookie("__Secure-csrf_token")
    assert value
    assert len(value) >= 32
    token = reply.cookie(site.cookie_name)
    assert token
    assert claims_of(token)["csrf"] == value, "bound to the signed token"


def test_unsafe_request_with_matching_header_passes(mode: str) -> None:
    site = Site(mode, double_submit=True)
    value, csrf = logged_in(site)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        reply = site.request(
            method=method,
            cookie=f"access_token={value}; csrf_token={csrf}",
            headers=[("X-CSRF-Token", csrf)],
        )
        assert reply.authenticated_as == "1"


def test_missing_header_is_named(mode: str) -> None:
    site = Site(mode, double_submit=True)
    value, csrf = logged_in(site)
    for header in (None, ""):
        reply = post(site, f"access_token={value}; csrf_token={csrf}", header)
        assert reply.status == 403
        assert reply.json == {"error": "missing X-CSRF-Token header"}


def test_missing_cookie_is_named(mode: str) -> None:
    site = Site(mode, double_submit=True)
    value, csrf = logged_in(site)
    for cookie in (f"access_token={value}", f"access_token={value}; csrf_token="):
        reply = post(site, cookie, csrf)
        assert reply.status == 403
        assert reply.json == {"error": "missing csrf_token cookie"}


@pytest.mark.parametrize(
    "sent", ["wrong", "x" * 43, "é", "\x00", b"\xff\xfe", " ", "a" * 10_000], ids=repr
)
def test_mismatch_is_named(mode: str, sent: str | bytes) -> None:
    site = Site(mode, double_submit=True)
    value, csrf = logged_in(site)
    reply = post(site, f"access_token={value}; csrf_token={csrf}", sent)
    assert reply.status == 403
    assert reply.json == {"error": "X-CSRF-Token does not match"}


def test_a_refused_request_changes_nothing(mode: str, clock: Clock) -> None:
    """No renewal, no logout, no deleted cookie rides on a 403."""
    site = Site(mode, double_submit=True, clock=clock)
    value, csrf = logged_in(site)
    clock.advance(4 * DAY)  # due for renewal
    reply = post(site, f"access_token={value}; csrf_token={csrf}", path="/logout")
    assert reply.status == 403
    assert not [v for k, v in reply.headers if k.lower() == "set-cookie"]


def test_a_planted_csrf_cookie_does_not_match_the_signed_token(mode: str) -> None:
    """Cookie tossing from a sibling subdomain: the attacker knows the cookie he planted,
    but the value is bound to the victim's token."""
    site = Site(mode, double_submit=True)
    value, _ = logged_in(site)
    planted = "p" * 43
    for cookie in (
        f"access_token={value}; csrf_token={planted}",
        f"csrf_token={planted}; access_token={value}; csrf_token={planted}",
    ):
        reply = post(site, cookie, planted)
        assert reply.json == {"error": "X-CSRF-Token does not match"}


def test_a_planted_duplicate_does_not_hide_the_real_one(mode: str) -> None:
    site = Site(mode, double_submit=True)
    value, csrf = logged_in(site)
    reply = post(site, f"csrf_token=planted; access_token={value}; csrf_token={csrf}", csrf)
    assert reply.authenticated_as == "1"


def test_safe_methods_and_cookieless_requests_need_no_token(mode: str) -> None:
    site = Site(mode, double_submit=True)
    value, _ = logged_in(site)
    for method in ("GET", "HEAD", "OPTIONS"):
        assert site.request(method=method, cookie=f"access_token={value}").status == 200
    assert post(site, "other=1").status == 200, "login itself carries no login cookie"


def test_renewal_resends_the_same_csrf_cookie(mode: str, clock: Clock) -> None:
    site = Site(mode, double_submit=True, clock=clock)
    value, csrf = logged_in(site)
    clock.advance(4 * DAY)
    reply = site.request(cookie=f"access_token={value}; csrf_token={csrf}")
    renewed = reply.cookie()
    assert renewed
    assert renewed != value
    assert reply.cookie("csrf_token") == csrf, "same value, fresh Max-Age"
    assert post(site, f"access_token={renewed}; csrf_token={csrf}", csrf).authenticated_as == "1"


def test_logout_and_bad_cookie_delete_the_csrf_cookie(mode: str) -> None:
    site = Site(mode, double_submit=True)
    value, csrf = logged_in(site)
    reply = post(site, f"access_token={value}; csrf_token={csrf}", csrf, path="/logout")
    assert reply.cookie() == ""
    assert reply.cookie("csrf_token") == ""
    bad = site.request(cookie="access_token=garbage; csrf_token=x")
    assert bad.cookie() == ""
    assert bad.cookie("csrf_token") == ""


def test_protected_path_refusing_a_bad_cookie_deletes_the_csrf_cookie_too(mode: str) -> None:
    site = Site(mode, double_submit=True, protected_paths=["/"])
    refused = site.request(cookie="access_token=garbage; csrf_token=x")
    assert refused.status == 401
    assert refused.cookie() == ""
    assert refused.cookie("csrf_token") == ""


def test_host_prefix_carries_over_to_the_csrf_cookie(mode: str) -> None:
    site = Site(mode, double_submit=True, cookie_name="__Host-access_token", secure=True)
    value, csrf = logged_in(site, "__Host-csrf_token")
    cookie = f"__Host-access_token={value}"
    assert post(site, cookie, csrf).json == {"error": "missing __Host-csrf_token cookie"}
    reply = post(site, f"{cookie}; csrf_token={csrf}", csrf)
    assert reply.json == {"error": "missing __Host-csrf_token cookie"}, "unprefixed is ignored"
    assert post(site, f"{cookie}; __Host-csrf_token={csrf}", csrf).authenticated_as == "1"


def test_a_login_cookie_without_the_claim_is_anonymous_and_deleted(mode: str, clock: Clock) -> None:
    """Tokens from another service, or from before double-submit was on, bind no csrf value,
    so nothing can prove a request carrying one is not forged: the cookie counts for nothing.

    Before the fix it still logged the user in for safe requests and was renewed, while every
    unsafe request was refused, logging in again and logging out included: a lock-out.
    """
    site = Site(mode, double_submit=True, clock=clock)
    unbound = make_token(issued=clock() - 4 * DAY)  # due for renewal, too
    cookie = f"access_token={unbound}; csrf_token=abc"
    for reply in (site.request(cookie=cookie), post(site, cookie, "abc")):
        assert_anonymous(reply)
        assert reply.seen["reason"] == "invalid"
        assert reply.cookie() == "", "deleted, never renewed"
        assert reply.cookie("csrf_token") == ""
    login = post(site, f"access_token={unbound}", path="/login")  # no header: nothing to borrow
    assert login.status == 200
    fresh, csrf = login.cookie(), login.cookie("csrf_token")
    assert fresh
    assert csrf
    assert post(site, f"access_token={fresh}; csrf_token={csrf}", csrf).authenticated_as == "1"
    logout = post(site, f"access_token={unbound}", path="/logout")
    assert logout.status == 200
    assert logout.cookie() == ""


def test_a_bearer_token_needs_no_csrf_claim(mode: str) -> None:
    """A header token is no ambient credential: a cross-site page cannot make the browser send
    it, so double-submit does not apply to it."""
    site = Site(mode, double_submit=True, bearer=True)
    issued = site.middleware.issue({"_id": "1"})
    reply = site.request(method="POST", headers=[("authorization", f"Bearer {issued}")])
    assert reply.authenticated_as == "1"


def test_works_beside_the_origin_check(mode: str) -> None:
    site = Site(mode, double_submit=True)
    value, csrf = logged_in(site)
    reply = site.request(
        method="POST",
        cookie=f"access_token={value}; csrf_token={csrf}",
        headers=[("x-csrf-token", csrf), ("sec-fetch-site", "cross-site")],
    )
    assert reply.status == 403
    assert reply.json == {"error": "cross-origin request refused"}


def test_csrf_cookie_never_echoes_an_unsafe_claim() -> None:
    """A csrf claim that could break the Set-Cookie header is never written."""
    from jwtcookie._request.cookies import CookieWriter

    login = CookieWriter(
        "access_token",
        max_age=60,
        path="/",
        domain=None,
        secure=True,
        httponly=True,
        samesite="Lax",
        partitioned=False,
    )
    double = DoubleSubmit(login)
    for claim in ("a;b" * 10, "x\r\nSet-Cookie: y=1" * 3, "short", 5):
        assert double.set_header({"csrf": claim}) is None
    good = double.set_header({"csrf": "A" * 43})
    assert good == "csrf_token=" + "A" * 43 + "; Max-Age=60; Secure; Path=/; SameSite=Lax"
