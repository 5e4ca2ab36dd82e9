"""``max_session_age``: sliding renewal cannot keep a (stolen) cookie alive forever."""

from __future__ import annotations

from typing import Any

from tests.harness import DAY, WEEK, Clock, Site, assert_anonymous, claims_of, make_token


def test_renewal_keeps_auth_time_and_stops_at_the_cap(mode: str, clock: Clock) -> None:
    start = int(clock())
    site = Site(mode, clock=clock, max_session_age=10 * DAY, leeway=10)
    first = site.login()
    assert claims_of(first)["auth_time"] == start
    assert claims_of(first)["exp"] == start + WEEK

    clock.advance(4 * DAY)
    second = site.request(cookie=f"access_token={first}").cookie()
    assert second
    assert claims_of(second)["auth_time"] == start, "auth_time kept across renewals"
    assert claims_of(second)["exp"] == start + 10 * DAY, "never past the cap"

    for step in (4 * DAY, DAY, DAY - 11):  # days 8, 9, and 10 less 11 s (inside the cap)
        clock.advance(step)  # past its renewal time, but a renewal could not extend it
        reply = site.request(cookie=f"access_token={second}")
        assert reply.authenticated_as == "1"
        assert reply.cookie() is None, "a capped token is never re-signed"

    clock.advance(22)
    for value in (first, second):
        reply = site.request(cookie=f"access_token={value}")
        assert_anonymous(reply)
        assert reply.seen["reason"] == "expired"


def test_a_cap_shorter_than_max_age_shortens_the_first_token(mode: str, clock: Clock) -> None:
    site = Site(mode, clock=clock, max_session_age=DAY)
    first = site.login()
    assert claims_of(first)["exp"] == int(clock()) + DAY


def test_token_without_auth_time_is_refused_when_capped(mode: str) -> None:
    """A token from before the cap was turned on (or from elsewhere) says nothing of its age."""
    assert_anonymous(Site(mode, max_session_age=DAY).request(cookie=f"access_token={make_token()}"))


def test_auth_time_cannot_be_refreshed_by_a_new_login_claims(mode: str, clock: Clock) -> None:
    """Claims passed to login() cannot set auth_time, iat or exp themselves."""

    def action(path: str, auth: Any) -> None:
        auth.login({"_id": "1", "auth_time": int(clock()) + 10**6, "exp": 1, "iat": 1})

    site = Site(mode, action, clock=clock, max_session_age=DAY)
    value = site.request("/", method="POST").cookie()
    assert value
    assert claims_of(value)["auth_time"] == int(clock())
    assert claims_of(value)["exp"] == int(clock()) + DAY
