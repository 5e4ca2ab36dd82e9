"""The core behaviours, each run through the WSGI flavour and the ASGI flavour alike."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import jwt
import pytest

from jwtcookie import JWTCookieMiddleware, get_auth
from tests.core_apps import (
    COOKIE,
    DAY,
    MODES,
    SECRET,
    USER,
    Clock,
    asgi_app,
    make_token,
    request,
    seen,
    wrap,
    wsgi_app,
)

pytestmark = pytest.mark.parametrize("mode", MODES)


def cookie_for(token: str) -> str:
    return f"theme=dark; {COOKIE}={token}; lang=en"


# -- extract, verify, inject --------------------------------------------------------------


def test_request_without_cookie_is_anonymous_with_reason_missing(mode: str) -> None:
    reply = request(mode, wrap(mode))
    assert seen(reply)["authenticated"] is False
    assert seen(reply)["reason"] == "missing"
    assert reply.set_cookies == []


def test_valid_cookie_makes_the_user_known_to_the_app(mode: str) -> None:
    info = seen(request(mode, wrap(mode), cookie=cookie_for(make_token())))
    assert info["authenticated"] is True
    assert info["reason"] == "ok"
    assert info["identity"] == "42"
    assert info["name"] == "alice"
    assert info["claims"]["username"] == "alice"
    assert "exp" in info["claims"]


def test_token_made_like_node_jsonwebtoken_is_accepted(mode: str) -> None:
    # jsonwebtoken.sign({_id, username}, secret, {expiresIn: '7d'}) makes exactly this.
    token = jwt.encode({**USER, "iat": 1_800_000_000, "exp": 1_800_000_000 + 7 * DAY}, SECRET)
    clock = Clock()
    clock.now = 1_800_000_000 + 60
    info = seen(request(mode, wrap(mode, clock=clock), cookie=f"{COOKIE}={token}"))
    assert info["identity"] == "42"


def test_cookie_name_is_configurable(mode: str) -> None:
    app = wrap(mode, cookie_name="sid")
    assert seen(request(mode, app, cookie=f"sid={make_token()}"))["authenticated"] is True
    assert seen(request(mode, app, cookie=f"{COOKIE}={make_token()}"))["authenticated"] is False


# -- bad tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (make_token(issued=1_000_000_000), "expired"),
        (make_token()[:-3] + "AAA", "invalid"),
        (make_token(secret="another-secret-" + "y" * 40), "invalid"),
        ("not.a.jwt", "invalid"),
        ("", "invalid"),
        (make_token(algorithm="HS512", secret="z" * 64), "invalid"),
        (jwt.encode({**USER, "iat": 1, "exp": 4_000_000_000}, None, algorithm="none"), "invalid"),
    ],
    ids=["expired", "tampered", "wrong-key", "malformed", "empty", "wrong-algorithm", "alg-none"],
)
def test_bad_token_makes_request_anonymous_and_deletes_the_cookie(
    mode: str, token: str, reason: str
) -> None:
    reply = request(mode, wrap(mode), cookie=cookie_for(token))
    info = seen(reply)
    assert info["authenticated"] is False
    assert info["reason"] == reason
    assert reply.token() == ""
    assert "Max-Age=0" in reply.our_cookies()[0]


def test_leeway_tolerates_clock_skew_but_is_not_a_grace_period(mode: str) -> None:
    clock = Clock()
    app = wrap(mode, clock=clock, leeway=10)
    ahead = make_token(issued=clock.now + 9)  # signed by a server whose clock runs ahead
    assert seen(request(mode, app, cookie=cookie_for(ahead)))["authenticated"] is True
    too_far = make_token(issued=clock.now + 11)
    assert seen(request(mode, app, cookie=cookie_for(too_far)))["reason"] == "invalid"
    expired = make_token(issued=clock.now - 7 * DAY - 1)  # exp one second ago
    reply = request(mode, app, cookie=cookie_for(expired))
    assert seen(reply)["reason"] == "expired"
    assert reply.token() == "", "deleted, never renewed"


def test_renewal_follows_the_contract_for_shorter_lived_tokens(mode: str) -> None:
    # The contract: a valid token with less than 3.5 days left gets a fresh 7-day token.
    clock = Clock()
    one_hour = make_token(issued=clock.now, life=3600)
    fresh = request(mode, wrap(mode, clock=clock), cookie=cookie_for(one_hour)).token()
    assert fresh
    claims = jwt.decode(fresh, SECRET, algorithms=["HS256"])
    assert claims["exp"] == int(clock.now) + 7 * DAY


def test_token_issued_in_the_future_is_refused(mode: str) -> None:
    clock = Clock()
    token = make_token(issued=clock.now + 3600)
    assert (
        seen(request(mode, wrap(mode, clock=clock), cookie=cookie_for(token)))["reason"]
        == "invalid"
    )


def test_issuer_and_audience_are_required_when_configured(mode: str) -> None:
    app = wrap(mode, issuer="https://auth.example", audience="shop")
    good = make_token(claims={**USER, "iss": "https://auth.example", "aud": "shop"})
    partial = make_token(claims={**USER, "iss": "https://auth.example.evil", "aud": "shop"})
    wrong_aud = make_token(claims={**USER, "iss": "https://auth.example", "aud": "blog"})
    assert seen(request(mode, app, cookie=cookie_for(good)))["authenticated"] is True
    assert seen(request(mode, app, cookie=cookie_for(partial)))["reason"] == "invalid"
    assert seen(request(mode, app, cookie=cookie_for(wrong_aud)))["reason"] == "invalid"
    assert seen(request(mode, app, cookie=cookie_for(make_token())))["reason"] == "invalid"


def test_token_naming_an_audience_is_refused_when_none_is_configured(mode: str) -> None:
    token = make_token(claims={**USER, "aud": "someone-else"})
    assert seen(request(mode, wrap(mode), cookie=cookie_for(token)))["reason"] == "invalid"


def test_on_error_hook_hears_the_reason_code(mode: str) -> None:
    heard: list[str] = []
    app = wrap(mode, on_error=lambda reason: heard.append(str(reason)))
    request(mode, app, cookie=cookie_for(make_token(issued=1_000_000_000)))
    request(mode, app, cookie=cookie_for("garbage"))
    request(mode, app)
    assert heard == ["expired", "invalid"]


# -- login and logout from a handler ------------------------------------------------------


def test_login_sets_the_cookie_with_secure_defaults(mode: str) -> None:
    reply = request(mode, wrap(mode), "/login")
    (cookie,) = reply.our_cookies()
    attributes = [part.strip() for part in cookie.split(";")[1:]]
    assert sorted(attributes) == sorted(
        ["HttpOnly", "Secure", "Path=/", "SameSite=Lax", "Max-Age=604800"]
    )


def test_secure_false_leaves_out_only_the_secure_attribute(mode: str) -> None:
    (cookie,) = request(mode, wrap(mode, secure=False), "/login").our_cookies("access_token")
    assert "Secure" not in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_token_carries_the_claims_a_fresh_life_and_a_jti(mode: str) -> None:
    clock = Clock()
    token = request(mode, wrap(mode, clock=clock), "/login").token()
    assert token
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["_id"] == "42"
    assert claims["username"] == "alice"
    assert claims["iat"] == int(clock.now)
    assert claims["exp"] == int(clock.now) + 7 * DAY
    assert len(claims["jti"]) >= 16


def test_logout_deletes_the_cookie_with_the_same_path_and_domain(mode: str) -> None:
    app, name = wrap(mode, path="/app", domain="example.com"), "__Secure-access_token"
    (set_cookie,) = request(mode, app, "/login").our_cookies(name)
    cookie = f"{name}={make_token()}"
    (deleted,) = request(mode, app, "/logout", cookie=cookie).our_cookies(name)
    assert "Path=/app" in set_cookie
    assert "Path=/app" in deleted
    assert "Domain=example.com" in set_cookie
    assert "Domain=example.com" in deleted
    assert deleted.startswith(f"{name}=;")
    assert "Max-Age=0" in deleted


def test_issue_returns_a_token_the_middleware_accepts(mode: str) -> None:
    issuer = JWTCookieMiddleware(asgi_app if mode == "asgi" else wsgi_app, secret=SECRET)
    token = issuer.issue(USER)
    assert seen(request(mode, wrap(mode), cookie=cookie_for(token)))["identity"] == "42"


# -- renewal ------------------------------------------------------------------------------


def test_renewal_happens_only_after_half_the_life(mode: str) -> None:
    clock = Clock()
    app = wrap(mode, clock=clock)
    token = make_token(issued=clock.now)
    clock.advance(3.5 * DAY - 1)
    assert request(mode, app, cookie=cookie_for(token)).token() is None
    clock.advance(2)
    assert request(mode, app, cookie=cookie_for(token)).token()


def test_renewed_token_has_a_fresh_life_and_the_same_claims(mode: str) -> None:
    clock = Clock()
    token = make_token(issued=clock.now - 5 * DAY, claims={**USER, "role": "admin"})
    fresh = request(mode, wrap(mode, clock=clock), cookie=cookie_for(token)).token()
    assert fresh
    claims = jwt.decode(fresh, SECRET, algorithms=["HS256"])
    assert claims["exp"] == int(clock.now) + 7 * DAY
    assert (claims["_id"], claims["username"], claims["role"]) == ("42", "alice", "admin")


def test_renewed_cookie_keeps_the_same_attributes(mode: str) -> None:
    app, name = (
        wrap(mode, path="/", domain="example.com", samesite="Strict"),
        "__Secure-access_token",
    )
    login_attrs = request(mode, app, "/login").our_cookies(name)[0].split(";", 1)[1]
    old = make_token(issued=_days_ago(5))
    renewed = request(mode, app, cookie=f"{name}={old}")
    assert renewed.our_cookies(name)[0].split(";", 1)[1] == login_attrs


def _days_ago(days: float) -> float:
    return Clock().now - days * DAY


def test_logout_response_is_not_renewed(mode: str) -> None:
    reply = request(mode, wrap(mode), "/logout", cookie=cookie_for(make_token(issued=_days_ago(5))))
    assert reply.token() == ""


def test_login_response_is_not_renewed(mode: str) -> None:
    old = make_token(issued=_days_ago(5))
    fresh = request(mode, wrap(mode), "/login", cookie=cookie_for(old)).token()
    assert fresh
    assert fresh != old
    assert jwt.decode(fresh, SECRET, algorithms=["HS256"])["username"] == "alice"


def test_response_that_sets_our_cookie_itself_is_left_as_written(mode: str) -> None:
    reply = request(
        mode, wrap(mode), "/own-cookie", cookie=cookie_for(make_token(issued=_days_ago(5)))
    )
    assert reply.our_cookies() == [f"{COOKIE}=handmade; Path=/"]


def test_renewal_appends_to_the_apps_other_cookies(mode: str) -> None:
    reply = request(
        mode, wrap(mode), "/other-cookies", cookie=cookie_for(make_token(issued=_days_ago(5)))
    )
    assert "theme=dark; Path=/" in reply.set_cookies
    assert "lang=en; Path=/" in reply.set_cookies
    assert reply.token()


def test_streaming_response_is_renewed_once(mode: str) -> None:
    reply = request(mode, wrap(mode), "/stream", cookie=cookie_for(make_token(issued=_days_ago(5))))
    assert len(reply.our_cookies()) == 1
    assert seen(reply)["authenticated"] is True


def test_renewal_can_be_turned_off(mode: str) -> None:
    reply = request(
        mode, wrap(mode, renew_after=None), cookie=cookie_for(make_token(issued=_days_ago(6)))
    )
    assert reply.token() is None


def test_many_concurrent_requests_with_one_old_token_each_get_a_valid_cookie(mode: str) -> None:
    app = wrap(mode)
    old = make_token(issued=_days_ago(5))
    tokens: list[str | None] = []
    if mode == "wsgi":

        def one() -> None:
            tokens.append(request(mode, app, cookie=cookie_for(old)).token())

        threads = [threading.Thread(target=one) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    else:
        from tests.core_apps import _asgi_request

        async def many() -> None:
            headers = {"Host": "testserver", "Cookie": cookie_for(old)}
            replies = await asyncio.gather(
                *(_asgi_request(app, "/", "GET", headers, "http") for _ in range(16))
            )
            tokens.extend(reply.token() for reply in replies)

        asyncio.run(many())
    assert len(tokens) == 16
    for token in tokens:
        assert token
        assert jwt.decode(token, SECRET, algorithms=["HS256"])["_id"] == "42"


# -- hooks --------------------------------------------------------------------------------


class DbUser:
    is_authenticated = True

    def __init__(self, name: str) -> None:
        self.display_name = name
        self.identity = name


def test_load_user_hook_supplies_the_user(mode: str) -> None:
    app = wrap(mode, load_user=lambda claims: DbUser(claims["username"].upper()))
    info = seen(request(mode, app, cookie=cookie_for(make_token())))
    assert info["name"] == "ALICE"
    assert info["claims"]["_id"] == "42"


def test_load_user_returning_none_makes_the_request_anonymous(mode: str) -> None:
    reply = request(
        mode, wrap(mode, load_user=lambda claims: None), cookie=cookie_for(make_token())
    )
    assert seen(reply)["reason"] == "rejected"
    assert reply.token() == ""


def test_revoked_token_is_anonymous_and_never_renewed(mode: str) -> None:
    app = wrap(mode, is_revoked=lambda claims: True)
    reply = request(mode, app, cookie=cookie_for(make_token(issued=_days_ago(5))))
    assert seen(reply)["reason"] == "revoked"
    assert reply.token() == ""


# -- protected paths and bearer tokens ----------------------------------------------------


def test_protected_path_answers_401_json_for_anonymous_requests(mode: str) -> None:
    app = wrap(mode, protected_paths=["/private"])
    refused = request(mode, app, "/private/data")
    assert refused.status == 401
    assert refused.body == b'{"error": "authentication required"}'
    assert seen(request(mode, app, "/private/data", cookie=cookie_for(make_token())))[
        "authenticated"
    ]
    assert request(mode, app, "/privateer").status == 200


def test_protected_path_with_a_bad_cookie_also_deletes_it(mode: str) -> None:
    reply = request(mode, wrap(mode, protected_paths=["/"]), cookie=cookie_for("junk"))
    assert reply.status == 401
    assert reply.token() == ""


def test_bearer_header_is_ignored_unless_turned_on(mode: str) -> None:
    headers = {"Authorization": f"Bearer {make_token()}"}
    assert seen(request(mode, wrap(mode), headers=headers))["authenticated"] is False
    assert seen(request(mode, wrap(mode, bearer=True), headers=headers))["authenticated"] is True


def test_bearer_header_wins_over_the_cookie_and_is_never_renewed_into_one(mode: str) -> None:
    bob = make_token(issued=_days_ago(5), claims={"_id": "7", "username": "bob"})
    reply = request(
        mode,
        wrap(mode, bearer=True),
        cookie=cookie_for(make_token()),
        headers={"Authorization": f"Bearer {bob}"},
    )
    assert seen(reply)["name"] == "bob"
    assert reply.token() is None


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
    reply = request(
        mode, wrap(mode), "/logout", method=method, cookie=cookie_for(make_token()), headers=headers
    )
    assert reply.status == 403
    assert reply.body == b'{"error": "cross-origin request refused"}'
    assert reply.set_cookies == []


def test_cross_site_form_without_cookie_cannot_log_a_user_in(mode: str) -> None:
    reply = request(
        mode, wrap(mode), "/login", method="POST", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert reply.status == 403
    assert reply.set_cookies == []


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
    app = wrap(mode, trusted_origins=["https://partner.example"])
    assert (
        request(
            mode, app, "/logout", method="POST", headers=headers, cookie=cookie_for(make_token())
        ).token()
        == ""
    )


def test_cross_site_get_is_not_refused(mode: str) -> None:
    assert request(mode, wrap(mode), headers={"Sec-Fetch-Site": "cross-site"}).status == 200


def test_cross_site_protection_can_be_switched_off(mode: str) -> None:
    app = wrap(mode, cross_site_protection=False)
    reply = request(mode, app, "/logout", method="POST", headers={"Sec-Fetch-Site": "cross-site"})
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
    reply = request(mode, wrap(mode), "/x", method="POST", headers={"Origin": origin}, host=host)
    assert reply.status == status


# -- secrets stay secret --------------------------------------------------------------------


def test_no_token_or_secret_reaches_the_logs(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    token = make_token(issued=_days_ago(5))
    app = wrap(mode)
    request(mode, app, cookie=cookie_for(token))
    request(mode, app, cookie=cookie_for(token + "x"))
    request(mode, app, "/login")
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
    middleware = JWTCookieMiddleware(asgi_app if mode == "asgi" else wsgi_app, secret=SECRET)
    with pytest.raises(ValueError, match=named):
        middleware.issue(claims)


def test_login_refuses_claims_the_middleware_would_refuse(mode: str) -> None:
    def app_logging_in(environ_or_scope: Any, *rest: Any) -> Any:
        get_auth(environ_or_scope).login({"sub": 42})

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        app_logging_in(scope)

    middleware = JWTCookieMiddleware(asgi if mode == "asgi" else app_logging_in, secret=SECRET)
    with pytest.raises(ValueError, match="sub must be a string"):
        request(mode, middleware, "/login", method="POST")


def test_issue_accepts_what_the_middleware_accepts(mode: str) -> None:
    app = wrap(mode, audience="billing")
    issuer = JWTCookieMiddleware(wsgi_app, secret=SECRET, audience="billing")
    token = issuer.issue({"sub": "42", "aud": "ignored: the configured audience wins"})
    assert seen(request(mode, app, cookie=cookie_for(token)))["identity"] == "42"
