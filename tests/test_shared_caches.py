"""A session cookie never rides on a response that a shared cache may keep.

A CDN or proxy that stores a response with ``Set-Cookie`` hands the cookie (a fresh 7-day
login, or a deletion) to everyone who asks for that URL next. Whenever the middleware adds
its ``Set-Cookie`` (login, logout, renewal, deleting a bad cookie), the response is made
private, as Django does: ``public`` and ``s-maxage`` go, ``private`` is added. A response
the middleware adds nothing to keeps its caching headers as the app wrote them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import DAY, Clock, Reply, Site, act, make_token

# RFC 9213's targeted fields and their forerunners: a CDN obeys them instead of Cache-Control.
CDN_FIELDS = [
    ("CDN-Cache-Control", "public, max-age=3600"),
    ("Cloudflare-CDN-Cache-Control", "max-age=3600"),
    ("Surrogate-Control", "max-age=3600"),
    ("Edge-Control", "cache-maxage=3600"),
    ("X-Accel-Expires", "3600"),  # nginx's proxy cache ranks it above Cache-Control
]
CACHE_HEADERS = {
    "public": [("Cache-Control", "public, max-age=600")],
    "s-maxage": [("Cache-Control", "s-maxage=600")],
    "max-age": [("Cache-Control", "max-age=600, must-revalidate")],
    "expires": [("Expires", "Thu, 01 Dec 2044 16:00:00 GMT")],
    "two-headers": [("Cache-Control", "public"), ("Cache-Control", "max-age=60")],
    "cdn": [("Cache-Control", "max-age=60"), *CDN_FIELDS],
    "none": [],
}
ALREADY_PRIVATE = {
    "private": [("Cache-Control", "private, max-age=600")],
    "no-store": [("Cache-Control", "no-store")],
    "private-cdn": [("Cache-Control", "private, max-age=60"), *CDN_FIELDS],
}


def cached_action(path: str, auth: Any) -> list[tuple[str, str]]:
    """``/<what>/<cache>``: do what ``act`` does for ``/<what>``, with those cache headers."""
    what, _, cache = path.rpartition("/")
    if not what:  # a plain `/login` (Site.login)
        act(path, auth)
        return []
    act(what, auth)
    return (CACHE_HEADERS | ALREADY_PRIVATE)[cache]


def directives(reply: Reply) -> set[str]:
    values = reply.header("cache-control")
    return {part.strip().lower() for value in values for part in value.split(",")}


def assert_private(reply: Reply) -> None:
    found = directives(reply)
    assert "private" in found, reply.headers
    assert "public" not in found
    assert not any(part.startswith("s-maxage") for part in found)


def replies_carrying_our_cookie(mode: str, cache: str) -> dict[str, Reply]:
    clock = Clock()
    site = Site(mode, cached_action, clock=clock)
    value = site.login()
    clock.advance(4 * DAY)
    replies = {
        "renewal": site.request(f"/page/{cache}", cookie=f"access_token={value}"),
        "login": site.request(f"/login/{cache}", method="POST"),
        "logout": site.request(f"/logout/{cache}", method="POST", cookie=f"access_token={value}"),
        "bad cookie": site.request(f"/page/{cache}", cookie="access_token=forged"),
        "expired": site.request(
            f"/page/{cache}", cookie=f"access_token={make_token(issued=clock() - 8 * DAY)}"
        ),
    }
    for reply in replies.values():
        assert len(reply.set_cookies()) == 1, reply.headers
    return replies


@pytest.mark.parametrize("cache", sorted(CACHE_HEADERS))
def test_a_response_carrying_our_cookie_is_made_private(mode: str, cache: str) -> None:
    """Before the fix a renewal, login, logout or deletion went out marked public as written."""
    for reply in replies_carrying_our_cookie(mode, cache).values():
        assert_private(reply)
        if cache == "max-age":
            assert {"max-age=600", "must-revalidate"} <= directives(reply), "the rest is kept"


@pytest.mark.parametrize("cache", sorted(ALREADY_PRIVATE))
def test_a_response_already_kept_from_shared_caches_is_left_as_written(
    mode: str, cache: str
) -> None:
    for reply in replies_carrying_our_cookie(mode, cache).values():
        assert reply.header("cache-control") == [ALREADY_PRIVATE[cache][0][1]]


@pytest.mark.parametrize("cache", ["cdn", "private-cdn"])
def test_no_cdn_cache_field_survives_on_a_response_carrying_our_cookie(
    mode: str, cache: str
) -> None:
    """Before the fix CDN-Cache-Control and Surrogate-Control stayed public: a CDN, which
    obeys them over Cache-Control, stored the login cookie and handed it to the next visitor."""
    for what, reply in replies_carrying_our_cookie(mode, cache).items():
        assert_private(reply)
        for field, _ in CDN_FIELDS:
            assert reply.header(field) == [], (what, field)


def test_a_public_response_without_our_cookie_keeps_its_caching(mode: str) -> None:
    site = Site(mode, cached_action)
    for cookie in (None, f"access_token={site.login()}"):
        reply = site.request("/page/public", cookie=cookie)
        assert reply.set_cookies() == []
        assert reply.header("cache-control") == ["public, max-age=600"]
        assert site.request("/page/cdn", cookie=cookie).header("CDN-Cache-Control") == [
            "public, max-age=3600"
        ]


def test_the_middlewares_own_401_deleting_a_bad_cookie_is_private(mode: str) -> None:
    reply = Site(mode, protected_paths=["/"]).request(cookie="access_token=forged")
    assert reply.status == 401
    assert reply.cookie() == ""
    assert_private(reply)
