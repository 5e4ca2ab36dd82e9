"""Revocation: a ``jti`` in every token, the ``is_revoked`` hook, "log out everywhere" with
``user_not_before``, and a logout that revokes the current token."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import jwt
import pytest

from jwtcookie import JWTCookieMiddleware, get_auth
from tests.security_apps import (
    ALICE,
    DAY,
    MALLORY,
    MODES,
    SECRET,
    Clock,
    Site,
    act,
    assert_anonymous,
    make_apps,
)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


def claims_of(value: str) -> dict[str, Any]:
    """The claims as signed (time checks off: the tests' clock is not PyJWT's)."""
    times = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}
    return jwt.decode(value, SECRET, algorithms=["HS256"], options=times)  # type: ignore[no-any-return]


def send(site: Site, value: str, path: str = "/", method: str = "GET") -> Any:
    return site.request(path, method=method, cookie=f"access_token={value}")


# -- jti --------------------------------------------------------------------------------------


def test_every_token_has_a_unique_jti(mode: str) -> None:
    clock = Clock()
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


def test_is_revoked_runs_before_renewing(mode: str) -> None:
    clock = Clock()
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


def test_async_user_not_before_is_awaited_on_asgi() -> None:
    clock = Clock()
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
@pytest.mark.parametrize("function", [async_hook, AsyncCallable()], ids=["def", "object"])
def test_wsgi_refuses_async_hooks_at_construction(hook: str, function: Any) -> None:
    wsgi_app, asgi_app = make_apps()
    with pytest.raises(TypeError, match="cannot await an `async def` hook"):
        JWTCookieMiddleware(wsgi_app, secret=SECRET, **{hook: function})
    JWTCookieMiddleware(asgi_app, secret=SECRET, **{hook: function})  # fine on ASGI


# -- log out everywhere -----------------------------------------------------------------------


def test_log_out_everywhere_with_user_not_before(mode: str) -> None:
    """The app stores one timestamp per user; tokens issued before it are refused."""
    clock = Clock()
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


def test_user_not_before_is_checked_before_renewing(mode: str) -> None:
    clock = Clock()
    since: dict[str, float] = {}
    site = Site(mode, clock=clock, user_not_before=lambda claims: since.get(claims["_id"]))
    value = site.login()
    clock.advance(4 * DAY)
    since["1"] = clock()
    assert send(site, value).cookie() == ""


def test_user_not_before_may_be_a_datetime(mode: str) -> None:
    """A timestamp the app already stores is often a datetime column."""
    clock = Clock()
    since: dict[str, datetime] = {}
    site = Site(mode, clock=clock, user_not_before=lambda claims: since.get(claims["_id"]))
    value = site.login()
    clock.advance(60)
    since["1"] = datetime.fromtimestamp(clock(), tz=timezone.utc)
    assert_anonymous(send(site, value))
    clock.advance(1)
    assert send(site, site.login()).authenticated_as == "1"


def test_user_not_before_counts_whole_seconds(mode: str) -> None:
    """A token from the same second as the cut-off is kept: a re-login right after a
    password change must not be refused (iat has one-second resolution)."""
    clock = Clock()
    since: dict[str, float] = {}
    site = Site(mode, clock=clock, user_not_before=lambda claims: since.get(claims["_id"]))
    clock.advance(0.3)
    since["1"] = clock()
    clock.advance(0.2)
    assert send(site, site.login()).authenticated_as == "1"


# -- logout that revokes the current jti ------------------------------------------------------


def test_logout_revokes_the_current_token(mode: str) -> None:
    """A copy of the cookie taken before logout (a stolen one) is refused afterwards."""
    revoked: set[str] = set()  # in production: a shared store with a TTL of max_age

    def action(path: str, auth: Any) -> None:
        if path == "/logout":
            revoked.add(auth.claims["jti"])
            auth.logout()
        else:
            act(path, auth)

    site = Site(mode, action, is_revoked=lambda claims: claims["jti"] in revoked)
    value = site.login()
    stolen = value
    reply = send(site, value, "/logout", "POST")
    assert reply.cookie() == ""
    assert len(revoked) == 1
    assert_anonymous(send(site, stolen))


def test_get_auth_gives_the_claims_a_logout_handler_needs(mode: str) -> None:
    seen: list[str] = []

    def action(path: str, auth: Any) -> None:
        seen.append(auth.claims["jti"])

    site = Site(mode, action)
    value = site.middleware.issue(ALICE)
    send(site, value)
    assert seen == [claims_of(value)["jti"]]
    assert get_auth  # the accessor the README shows: get_auth(request).claims["jti"]
