"""Revocation: a ``jti`` in every token, the ``is_revoked`` hook, "log out everywhere" with
``user_not_before``, and a logout that revokes the current token."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import pytest

from jwtcookie import Settings
from jwtcookie.revocations import Standing, standing
from tests.harness import (
    ALICE,
    DAY,
    MALLORY,
    SECRET,
    Clock,
    Site,
    act,
    assert_anonymous,
    claims_of,
    make_token,
)


def send(site: Site, value: str, path: str = "/", method: str = "GET") -> Any:
    return site.request(path, method=method, cookie=f"access_token={value}")


# -- jti --------------------------------------------------------------------------------------


def test_every_token_has_a_unique_jti(mode: str, clock: Clock) -> None:
    site = Site(mode, clock=clock)
    logins = [site.login() for _ in range(50)]
    issued = site.middleware.issue(ALICE)
    clock.advance(4 * DAY)
    renewed = send(site, logins[0]).cookie()
    assert renewed
    jtis = [claims_of(value)["jti"] for value in [*logins, issued, renewed]]
    assert all(isinstance(jti, str) and len(jti) >= 16 for jti in jtis)
    assert len(set(jtis)) == len(jtis), "renewal gets a new jti too"


# -- is_revoked -------------------------------------------------------------------------------


def test_is_revoked_refuses_a_token(mode: str) -> None:
    revoked: set[str] = set()
    heard: list[Mapping[str, Any]] = []

    def is_revoked(claims: Mapping[str, Any]) -> bool:
        heard.append(claims)
        return claims["jti"] in revoked

    site = Site(mode, is_revoked=is_revoked)
    first, second = site.login(), site.login()
    revoked.add(claims_of(first)["jti"])
    reply = send(site, first)
    assert_anonymous(reply)
    assert reply.seen["reason"] == "revoked"
    assert reply.cookie() == "", "the revoked cookie is deleted"
    assert send(site, second).authenticated_as == "1"
    assert heard[0]["_id"] == "1"


def test_is_revoked_runs_before_renewing(mode: str, clock: Clock) -> None:
    revoked: set[str] = set()
    site = Site(mode, clock=clock, is_revoked=lambda claims: claims["jti"] in revoked)
    value = site.login()
    clock.advance(4 * DAY)  # past half-life: this request would renew it
    revoked.add(claims_of(value)["jti"])
    reply = send(site, value)
    assert_anonymous(reply)
    assert reply.cookie() == "", "deleted, never renewed"


def test_is_revoked_runs_before_load_user(mode: str) -> None:
    calls: list[str] = []

    def is_revoked(claims: Mapping[str, Any]) -> bool:
        calls.append("is_revoked")
        return True

    def load_user(claims: Mapping[str, Any]) -> Any:
        calls.append("load_user")
        return {"never": "reached"}

    site = Site(mode, is_revoked=is_revoked, load_user=load_user)
    assert_anonymous(send(site, site.middleware.issue(ALICE)))
    assert calls == ["is_revoked"]


def test_async_is_revoked_is_awaited_on_asgi() -> None:
    revoked: set[str] = set()

    async def is_revoked(claims: Mapping[str, Any]) -> bool:
        return claims["jti"] in revoked

    site = Site("asgi", is_revoked=is_revoked)
    value = site.login()
    assert send(site, value).authenticated_as == "1"
    revoked.add(claims_of(value)["jti"])
    assert_anonymous(send(site, value))


def test_async_user_not_before_is_awaited_on_asgi(clock: Clock) -> None:
    since: dict[str, float] = {}

    async def user_not_before(claims: Mapping[str, Any]) -> float | None:
        return since.get(claims["_id"])

    site = Site("asgi", clock=clock, user_not_before=user_not_before)
    value = site.login()
    clock.advance(60)
    since["1"] = clock()
    assert_anonymous(send(site, value))


class AsyncCallable:
    async def __call__(self, claims: Mapping[str, Any]) -> bool:
        return False


async def async_hook(claims: Mapping[str, Any]) -> bool:
    return False


@pytest.mark.parametrize("hook", ["is_revoked", "user_not_before", "load_user"])
@pytest.mark.parametrize(
    "function",
    [async_hook, AsyncCallable(), functools.partial(AsyncCallable())],
    ids=["def", "object", "partial"],  # a partial used to pass: every token then "revoked"
)
def test_wsgi_refuses_async_hooks_at_construction(hook: str, function: Any) -> None:
    with pytest.raises(TypeError, match="cannot await an `async def` hook"):
        Site("wsgi", **{hook: function})
    Site("asgi", **{hook: function})  # fine on ASGI


# -- log out everywhere -----------------------------------------------------------------------


def test_log_out_everywhere_with_user_not_before(mode: str, clock: Clock) -> None:
    """The app stores one timestamp per user; tokens issued before it are refused."""
    logged_out_at: dict[str, float] = {}  # e.g. a column on the users table

    def user_not_before(claims: Mapping[str, Any]) -> float | None:
        return logged_out_at.get(claims["_id"])

    site = Site(mode, clock=clock, user_not_before=user_not_before)
    laptop, phone, mallorys = site.login(), site.login(), site.login("/login-mallory")
    clock.advance(3600)
    logged_out_at["1"] = clock()  # "log out everywhere", or a password change
    for value in (laptop, phone):
        reply = send(site, value)
        assert_anonymous(reply)
        assert reply.seen["reason"] == "revoked"
    assert send(site, mallorys).authenticated_as == MALLORY["_id"], "other users unaffected"
    clock.advance(1)
    assert send(site, site.login()).authenticated_as == "1", "a new login works"


def test_user_not_before_is_checked_before_renewing(mode: str, clock: Clock) -> None:
    since: dict[str, float] = {}
    site = Site(mode, clock=clock, user_not_before=lambda claims: since.get(claims["_id"]))
    value = site.login()
    clock.advance(4 * DAY)
    since["1"] = clock()
    assert send(site, value).cookie() == ""


def test_user_not_before_may_be_a_datetime(mode: str, clock: Clock) -> None:
    """A timestamp the app already stores is often a datetime column."""
    since: dict[str, datetime] = {}
    site = Site(mode, clock=clock, user_not_before=lambda claims: since.get(claims["_id"]))
    value = site.login()
    clock.advance(60)
    since["1"] = datetime.fromtimestamp(clock(), tz=timezone.utc)
    assert_anonymous(send(site, value))
    clock.advance(1)
    assert send(site, site.login()).authenticated_as == "1"


def test_user_not_before_counts_whole_seconds(mode: str, clock: Clock) -> None:
    """A token from the same second as the cut-off is kept: a re-login right after a
    password change must not be refused (iat has one-second resolution)."""
    since: dict[str, float] = {}
    site = Site(mode, clock=clock, user_not_before=lambda claims: since.get(claims["_id"]))
    clock.advance(0.3)
    since["1"] = clock()
    clock.advance(0.2)
    assert send(site, site.login()).authenticated_as == "1"


# -- sessions: one sid per login, carried over by every renewal ------------------------------


def test_each_login_starts_a_session_that_every_renewal_carries_over(
    mode: str, clock: Clock
) -> None:
    site = Site(mode, clock=clock)
    first, second = site.login(), site.login()
    assert claims_of(first)["sid"] != claims_of(second)["sid"]
    assert claims_of(site.middleware.issue(ALICE))["sid"] not in (
        claims_of(first)["sid"],
        claims_of(second)["sid"],
    )
    chain = [first]
    for _ in range(3):  # three renewals, 4 days apart
        clock.advance(4 * DAY)
        renewed = send(site, chain[-1]).cookie()
        assert renewed
        chain.append(renewed)
    assert {claims_of(value)["sid"] for value in chain} == {claims_of(first)["sid"]}
    assert len({claims_of(value)["jti"] for value in chain}) == len(chain)


def test_a_token_from_elsewhere_gets_a_session_at_its_first_renewal(
    mode: str, clock: Clock
) -> None:
    site = Site(mode, clock=clock)
    clock.advance(4 * DAY)
    renewed = send(site, make_token(issued=clock() - 4 * DAY)).cookie()
    assert renewed
    assert isinstance(claims_of(renewed)["sid"], str)


def test_logout_revokes_the_session_so_an_earlier_copy_is_refused(mode: str, clock: Clock) -> None:
    """The README's pattern. Revoking the jti at logout left a copy taken before the last
    renewal valid, and renewed (every renewal minted a new jti)."""
    revoked: set[str] = set()  # in production: a shared store with a TTL of max_age

    def action(path: str, auth: Any) -> None:
        if path == "/logout":
            revoked.add(auth.session_id)
            auth.logout()
        else:
            act(path, auth)

    site = Site(mode, action, clock=clock, is_revoked=lambda c: c.get("sid") in revoked)
    copied = site.login()  # e.g. stolen from a shared computer
    clock.advance(4 * DAY)
    current = send(site, copied).cookie()  # the user's browser gets a renewed cookie
    assert current
    assert send(site, current, "/logout", "POST").cookie() == ""
    for value in (copied, current):
        reply = send(site, value)
        assert_anonymous(reply)
        assert reply.seen["reason"] == "revoked"
        assert reply.cookie() == "", "deleted, never renewed"
    assert send(site, site.login()).authenticated_as == "1", "a new login is a new session"


def test_hooks_and_handlers_see_the_session_id(mode: str) -> None:
    heard: list[Any] = []
    seen: list[Any] = []

    def action(path: str, auth: Any) -> None:
        seen.append(auth.session_id)

    def is_revoked(claims: Mapping[str, Any]) -> bool:
        heard.append(claims["sid"])
        return False

    site = Site(mode, action, is_revoked=is_revoked)
    value = site.middleware.issue(ALICE)
    send(site, value)
    assert heard == seen == [claims_of(value)["sid"]]


# -- a revocation store that cannot answer: one rule for acceptance, renewal and logout -------


class MemoryStore:
    """A ``revocations=`` store in memory whose standing the test sets by hand."""

    def __init__(self, standing: Standing, window: float = 7 * DAY + 10) -> None:
        self.standing = standing
        self.window = window
        self.sessions: set[str] = set()

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        return claims.get("sid") in self.sessions

    def user_not_before(self, claims: Mapping[str, Any]) -> float | None:
        return None

    def revoke_session(self, session_id: str) -> bool:
        self.sessions.add(session_id)
        return True


@pytest.mark.parametrize(
    ("loaded", "following", "staleness", "max_staleness", "expected"),
    [
        (False, False, math.inf, None, Standing.CANNOT_ANSWER),  # never loaded, fail open
        (False, True, 0.0, None, Standing.CANNOT_ANSWER),  # loading: part of the set
        (False, True, 0.0, 5.0, Standing.CANNOT_ANSWER),
        (True, True, 0.5, None, Standing.CURRENT),
        (True, True, 0.5, 5.0, Standing.CURRENT),
        (True, False, 60.0, None, Standing.BEHIND),  # fail open from the last whole copy
        (True, False, 4.0, 5.0, Standing.BEHIND),
        (True, False, 6.0, 5.0, Standing.CANNOT_ANSWER),  # older than max_staleness
        (True, True, math.nan, 5.0, Standing.CANNOT_ANSWER),
    ],
)
def test_what_a_store_can_answer_is_decided_by_one_rule(
    loaded: bool, following: bool, staleness: float, max_staleness: float | None, expected: Any
) -> None:
    found = standing(loaded, following, time.monotonic() - staleness, max_staleness)
    assert found is expected


def test_a_store_that_is_not_following_accepts_but_never_renews(mode: str, clock: Clock) -> None:
    """Issue 18, finding 5: a renewal minted from a copy that is not followed carries a fresh
    ``iat`` past any "log out everywhere" the copy has not heard of (it used to be renewed)."""
    store = MemoryStore(Standing.CURRENT)
    site = Site(mode, clock=clock, revocations=store)
    token = site.login()
    clock.advance(4 * DAY)  # past the renewal point
    store.standing = Standing.BEHIND
    reply = send(site, token)
    assert reply.authenticated_as == "1", "fail open: accepted from the last whole copy"
    assert reply.cookie() is None, "and not renewed"
    store.standing = Standing.CURRENT
    assert send(site, token).cookie(), "renewed once the store follows again"


def test_a_store_that_cannot_answer_keeps_the_cookie_and_renews_nothing(
    mode: str, clock: Clock
) -> None:
    store = MemoryStore(Standing.CANNOT_ANSWER)
    site = Site(mode, clock=clock, revocations=store)
    token = site.login()
    clock.advance(4 * DAY)
    reply = send(site, token)
    assert_anonymous(reply)
    assert reply.seen["reason"] == "unavailable"
    assert reply.set_cookies() == [], "kept, and not renewed"


def test_logout_revokes_a_verified_session_the_store_cannot_judge(mode: str) -> None:
    """Issue 18, finding 7: the request is anonymous (the store cannot answer), yet the token's
    signature verified: its session is revoked (it used to revoke nothing)."""
    store = MemoryStore(Standing.CANNOT_ANSWER)
    site = Site(mode, revocations=store)
    token = site.login()
    reply = send(site, token, "/logout", method="POST")
    assert reply.cookie() == "", "the cookie is deleted"
    assert store.sessions == {claims_of(token)["sid"]}
    store.standing = Standing.CURRENT
    assert send(site, token).seen["reason"] == "revoked", "a copy is refused once it can answer"
    forged = make_token({**claims_of(site.login()), "sid": "victim"}, key="x" * 48)
    send(site, forged, "/logout", method="POST")
    assert "victim" not in store.sessions, "a token whose signature fails revokes nothing"


@pytest.mark.parametrize("wiring", ["revocations", "hooks"])
def test_a_store_that_forgets_before_tokens_expire_is_refused_at_construction(
    wiring: str,
) -> None:
    """Issue 18, finding 2: a store keeping entries 7 days behind 30-day tokens let a revoked
    session's copied cookie back in from day 8 (nothing compared the two windows)."""
    week = MemoryStore(Standing.CURRENT, window=7 * DAY + 10)
    options: dict[str, Any] = (
        {"revocations": week}
        if wiring == "revocations"
        else {"is_revoked": week.is_revoked, "user_not_before": week.user_not_before}
    )
    with pytest.raises(ValueError, match=r"keeps an entry 604810 s.* max_age=2592000"):
        Settings(secret=SECRET, max_age=30 * DAY, **options)
    with pytest.raises(ValueError, match="leeway=60"):
        Settings(secret=SECRET, leeway=60, **options)
    Settings(secret=SECRET, max_age=DAY, **options)  # shorter tokens: fine
    Settings(secret=SECRET, max_session_age=90 * DAY, **options)  # a cap never lengthens one
