"""The core behaviours beyond the scenario table (tests/scenarios.py), in both flavours."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from tests.harness import ALICE, DAY, SECRET, WEEK, Clock, Site, claims_of, make_token
from tests.scenarios import days_old


def cookie_for(token: str) -> str:
    return f"theme=dark; access_token={token}; lang=en"


# -- verify -------------------------------------------------------------------------------


def test_token_made_like_node_jsonwebtoken_is_accepted(mode: str, clock: Clock) -> None:
    # jsonwebtoken.sign({_id, username}, secret, {expiresIn: '7d'}) makes exactly this.
    token = make_token(ALICE, issued=1_800_000_000)
    clock.now = 1_800_000_000 + 60
    reply = Site(mode, clock=clock).request(cookie=cookie_for(token))
    assert reply.authenticated_as == "1"


def test_leeway_tolerates_clock_skew_but_is_not_a_grace_period(mode: str, clock: Clock) -> None:
    site = Site(mode, clock=clock, leeway=10)
    ahead = make_token(issued=clock.now + 9)  # signed by a server whose clock runs ahead
    assert site.request(cookie=cookie_for(ahead)).seen["auth"] is True
    too_far = make_token(issued=clock.now + 11)
    assert site.request(cookie=cookie_for(too_far)).seen["reason"] == "invalid"
    expired = make_token(issued=clock.now - WEEK - 1)  # exp one second ago
    reply = site.request(cookie=cookie_for(expired))
    assert reply.seen["reason"] == "expired"
    assert reply.cookie() == "", "deleted, never renewed"


def test_issuer_and_audience_are_required_when_configured(mode: str) -> None:
    site = Site(mode, issuer="https://auth.example", audience="shop")
    good = make_token(iss="https://auth.example", aud="shop")
    partial = make_token(iss="https://auth.example.evil", aud="shop")
    wrong_aud = make_token(iss="https://auth.example", aud="blog")
    assert site.request(cookie=cookie_for(good)).seen["auth"] is True
    for token in (partial, wrong_aud, make_token()):
        assert site.request(cookie=cookie_for(token)).seen["reason"] == "invalid"


def test_on_error_hook_hears_the_reason_code(mode: str) -> None:
    heard: list[str] = []
    site = Site(mode, on_error=lambda reason: heard.append(str(reason)))
    site.request(cookie=cookie_for(make_token(issued=1_000_000_000)))
    site.request(cookie=cookie_for("garbage"))
    site.request()
    assert heard == ["expired", "invalid"]


# -- renewal ------------------------------------------------------------------------------


def test_renewal_follows_the_contract_for_shorter_lived_tokens(mode: str, clock: Clock) -> None:
    # The contract: a valid token with less than 3.5 days left gets a fresh 7-day token.
    one_hour = make_token(issued=clock.now, life=3600)
    fresh = Site(mode, clock=clock).request(cookie=cookie_for(one_hour)).cookie()
    assert fresh
    assert claims_of(fresh)["exp"] == int(clock.now) + WEEK


def test_renewal_happens_only_after_half_the_life(mode: str, clock: Clock) -> None:
    site = Site(mode, clock=clock)
    token = make_token(issued=clock.now)
    clock.advance(3.5 * DAY - 1)
    assert site.request(cookie=cookie_for(token)).cookie() is None
    clock.advance(2)
    assert site.request(cookie=cookie_for(token)).cookie()


def test_renewed_cookie_keeps_the_same_attributes(mode: str) -> None:
    site = Site(mode, domain="example.com", samesite="Strict", secure=True)
    name = site.cookie_name
    assert name == "__Secure-access_token"
    (login,) = site.request("/login", method="POST").set_cookies(name)
    (renewed,) = site.request(cookie=f"{name}={days_old(5)}").set_cookies(name)
    assert renewed.split(";", 1)[1] == login.split(";", 1)[1]


def test_response_that_sets_our_cookie_itself_is_left_as_written(mode: str) -> None:
    reply = Site(mode).request("/own-cookie", cookie=cookie_for(days_old(5)))
    assert reply.set_cookies("access_token") == ["access_token=handmade; Path=/"]


def test_renewal_appends_to_the_apps_other_cookies(mode: str) -> None:
    reply = Site(mode).request("/other-cookies", cookie=cookie_for(days_old(5)))
    assert reply.set_cookies("theme") == ["theme=dark; Path=/"]
    assert reply.set_cookies("lang") == ["lang=en; Path=/"]
    assert reply.cookie()


def test_renewal_can_be_turned_off(mode: str) -> None:
    reply = Site(mode, renew_after=None).request(cookie=cookie_for(days_old(6)))
    assert reply.authenticated_as == "1"
    assert reply.cookie() is None


def test_many_concurrent_requests_with_one_old_token_each_get_a_valid_cookie(mode: str) -> None:
    site, old = Site(mode), days_old(5)
    tokens: list[str | None] = []
    if mode == "wsgi":

        def one() -> None:
            tokens.append(site.request(cookie=cookie_for(old)).cookie())

        threads = [threading.Thread(target=one) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    else:

        async def many() -> None:
            replies = await asyncio.gather(
                *(site.arequest(cookie=cookie_for(old)) for _ in range(16))
            )
            tokens.extend(reply.cookie() for reply in replies)

        asyncio.run(many())
    assert len(tokens) == 16
    for token in tokens:
        assert token
        assert claims_of(token)["_id"] == "1"


# -- hooks --------------------------------------------------------------------------------


class DbUser:
    is_authenticated = True

    def __init__(self, name: str) -> None:
        self.display_name = name
        self.identity = name


def test_load_user_hook_supplies_the_user(mode: str) -> None:
    site = Site(mode, load_user=lambda claims: DbUser(claims["username"].upper()))
    seen = site.request(cookie=cookie_for(make_token())).seen
    assert seen["name"] == "ALICE"
    assert seen["claims"]["_id"] == "1"


def test_load_user_returning_none_makes_the_request_anonymous(mode: str) -> None:
    reply = Site(mode, load_user=lambda claims: None).request(cookie=cookie_for(make_token()))
    assert reply.seen["reason"] == "rejected"
    assert reply.cookie() == ""


# -- protected paths and bearer tokens ----------------------------------------------------


def test_protected_paths_cover_the_subtree_and_nothing_beside_it(mode: str) -> None:
    site = Site(mode, protected_paths=["/private"])
    refused = site.request("/private/data")
    assert refused.status == 401
    assert refused.json == {"error": "authentication required"}
    assert site.request("/private/data", cookie=cookie_for(make_token())).authenticated_as == "1"
    assert site.request("/privateer").status == 200


def test_bearer_header_is_ignored_unless_turned_on(mode: str) -> None:
    headers = [("Authorization", f"Bearer {make_token()}")]
    assert Site(mode).request(headers=headers).seen["auth"] is False
    assert Site(mode, bearer=True).request(headers=headers).authenticated_as == "1"


def test_bearer_header_wins_over_the_cookie_and_is_never_renewed_into_one(mode: str) -> None:
    bob = make_token({"_id": "7", "username": "bob"}, issued=time.time() - 5 * DAY)
    reply = Site(mode, bearer=True).request(
        cookie=cookie_for(make_token()), headers=[("Authorization", f"Bearer {bob}")]
    )
    assert reply.seen["name"] == "bob"
    assert reply.set_cookies() == []


# -- cross-site request protection ---------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver:8080"},  # other port
    ],
)
def test_cross_site_unsafe_request_is_refused_and_changes_nothing(
    mode: str, method: str, headers: dict[str, str]
) -> None:
    reply = Site(mode).request(
        "/logout", method=method, cookie=cookie_for(make_token()), headers=list(headers.items())
    )
    assert reply.status == 403
    assert reply.body == b'{"error": "cross-origin request refused"}'
    assert reply.set_cookies() == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://testserver"},
        {"Origin": "http://testserver:80"},
        {"Origin": "https://partner.example", "Sec-Fetch-Site": "cross-site"},
    ],
    ids=["non-browser", "same-origin", "user-typed", "own-origin", "own-origin-port", "trusted"],
)
def test_same_origin_trusted_and_non_browser_requests_pass(
    mode: str, headers: dict[str, str]
) -> None:
    site = Site(mode, trusted_origins=["https://partner.example"])
    reply = site.request(
        "/logout", method="POST", headers=list(headers.items()), cookie=cookie_for(make_token())
    )
    assert reply.cookie() == ""


def test_cross_site_protection_can_be_switched_off(mode: str) -> None:
    site = Site(mode, cross_site_protection=False)
    reply = site.request("/logout", method="POST", headers=[("Sec-Fetch-Site", "cross-site")])
    assert reply.status == 200


@pytest.mark.parametrize(
    ("origin", "host", "status"),
    [
        ("https://shop.example", "shop.example", 200),  # a TLS proxy that did not pass the scheme
        ("http://shop.example", "shop.example", 200),
        ("https://shop.example", "shop.example:443", 200),
        ("https://SHOP.example", "shop.EXAMPLE", 200),
        ("http://shop.example:8080", "shop.example:8080", 200),
        ("https://evil.example", "shop.example", 403),
        ("https://shop.example.evil", "shop.example", 403),
        ("http://shop.example:8080", "shop.example", 403),
        ("https://shop.example", "shop.example:8443", 403),
        ("null", "shop.example", 403),
    ],
)
def test_origin_fallback_compares_the_host_alone_like_go(
    mode: str, origin: str, host: str, status: int
) -> None:
    """Without Sec-Fetch-Site, Origin must name the request's host and port; not its scheme.

    Before the fix https://shop.example was refused on a request the app saw as http.
    """
    cookie = f"access_token={make_token()}"
    reply = Site(mode).request(
        "/x", method="POST", headers=[("Origin", origin)], host=host, cookie=cookie
    )
    assert reply.status == status
    strict = Site(mode, cross_site_protection="strict")  # the same rule, cookie or not
    assert (
        strict.request("/x", method="POST", headers=[("Origin", origin)], host=host).status
        == status
    )


# -- secrets stay secret --------------------------------------------------------------------


def test_no_token_or_secret_reaches_the_logs(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    token = days_old(5)
    site = Site(mode)
    site.request(cookie=cookie_for(token))
    site.request(cookie=cookie_for(token + "x"))
    site.request("/login", method="POST")
    assert token.split(".")[2] not in caplog.text
    assert SECRET not in caplog.text


# -- login() and issue() never sign a token the middleware would refuse -------------------------


@pytest.mark.parametrize(
    ("claims", "named"),
    [
        ({"sub": 42}, "sub must be a string"),
        ({"_id": "1", "aud": "billing"}, "aud"),
        ({"_id": "1", "padding": "x" * 5000}, "4096"),
    ],
)
def test_issue_refuses_claims_the_middleware_would_refuse(
    mode: str, claims: dict[str, object], named: str
) -> None:
    """Before the fix these were signed; every request with them was silently anonymous."""
    with pytest.raises(ValueError, match=named):
        Site(mode).middleware.issue(claims)


def test_login_refuses_claims_the_middleware_would_refuse(mode: str) -> None:
    def log_in_badly(path: str, auth: Any) -> None:
        auth.login({"sub": 42})

    with pytest.raises(ValueError, match="sub must be a string"):
        Site(mode, log_in_badly).request("/login", method="POST")


def test_issue_accepts_what_the_middleware_accepts(mode: str) -> None:
    issuer = Site("wsgi", audience="billing").middleware
    token = issuer.issue({"sub": "42", "aud": "ignored: the configured audience wins"})
    assert Site(mode, audience="billing").request(cookie=cookie_for(token)).authenticated_as == "42"
