"""Cookie options: the ``__Host-``/``__Secure-`` prefixes, ``Partitioned``, SameSite=None only
with Secure, and Domain/Path identical on the cookies that set and that delete."""

from __future__ import annotations

import time
from typing import Any

import pytest

from jwtcookie import JWTCookieMiddleware
from tests.harness import MALLORY, SECRET, Site, bare_app, make_token, parse_set_cookie


def all_cookie_writes(site: Site, name: str) -> list[str]:
    """The login, logout and bad-cookie-deletion Set-Cookie values of ``site``."""
    login = site.request("/login", method="POST").set_cookies(name)
    logout = site.request("/logout", method="POST", cookie=f"{name}=x").set_cookies(name)
    bad = site.request("/", cookie=f"{name}=bad").set_cookies(name)
    assert len(login) == len(logout) == len(bad) == 1
    return [login[0], logout[0], bad[0]]


def construct(**options: Any) -> Any:
    return JWTCookieMiddleware(bare_app("wsgi"), secret=SECRET, **options)


def test_host_prefix_mode(mode: str) -> None:
    site = Site(mode, cookie_name="__Host-access_token", secure=True)
    value = site.login()
    reply = site.request(cookie=f"__Host-access_token={value}")
    assert reply.authenticated_as == "1"
    for written in all_cookie_writes(site, "__Host-access_token"):
        found = parse_set_cookie(written)[2]
        assert "secure" in found
        assert found["path"] == "/"
        assert "domain" not in found
    assert site.request(cookie=f"access_token={value}").seen["auth"] is False


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"secure": False}, "must be secure=True"),
        ({"secure": True, "domain": "example.com"}, "needs path='/' and no domain"),
        ({"secure": True, "path": "/app"}, "needs path='/' and no domain"),
    ],
)
def test_host_prefix_refuses_what_browsers_would_drop(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        construct(cookie_name="__Host-access_token", **options)


def test_secure_prefix_needs_secure() -> None:
    with pytest.raises(ValueError, match="__Secure- cookie must be secure=True"):
        construct(cookie_name="__Secure-access_token", secure=False)
    construct(cookie_name="__Secure-access_token", secure=True, domain="example.com")


def test_partitioned_flag_on_every_cookie_write(mode: str) -> None:
    site = Site(mode, partitioned=True, secure=True, samesite="None")
    for written in all_cookie_writes(site, site.cookie_name):
        assert written.count("Partitioned") == 1, written
        assert "secure" in parse_set_cookie(written)[2]


def test_partitioned_needs_secure() -> None:
    """CHIPS: browsers drop a Partitioned cookie without Secure."""
    with pytest.raises(ValueError, match="partitioned=True needs secure=True"):
        construct(partitioned=True, secure=False)


def test_samesite_none_requires_secure() -> None:
    for spelling in ("None", "none", "NONE"):
        with pytest.raises(ValueError, match="samesite='None' needs secure=True"):
            construct(samesite=spelling, secure=False)
    construct(samesite="None", secure=True)


def test_samesite_none_with_secure_is_written(mode: str) -> None:
    site = Site(mode, samesite="None", secure=True)
    for written in all_cookie_writes(site, site.cookie_name):
        assert parse_set_cookie(written)[2]["samesite"] == "None"
        assert "secure" in parse_set_cookie(written)[2]


@pytest.mark.parametrize("samesite", ["", "lax ", "Relaxed"])
def test_unknown_samesite_is_refused(samesite: str) -> None:
    with pytest.raises(ValueError, match="samesite must be"):
        construct(samesite=samesite)


def test_domain_and_path_match_on_set_and_delete(mode: str) -> None:
    """A delete with another Domain or Path would leave the browser's cookie in place."""
    site = Site(mode, domain="example.com", path="/app", samesite="Strict", secure=True)
    writes = all_cookie_writes(site, site.cookie_name)
    login, logout, bad = (parse_set_cookie(written)[2] for written in writes)
    for found in (login, logout, bad):
        assert found["domain"] == "example.com"
        assert found["path"] == "/app"
        assert found["samesite"] == "Strict"
        assert "secure" in found
        assert "httponly" in found
    assert logout["max-age"] == bad["max-age"] == "0"
    assert login["max-age"] == str(7 * 24 * 3600)


@pytest.mark.parametrize(
    "name", ["", "access token", "a=b", "a;b", 'a"b', "a,b", "tökén", "a\\b", "a\tb"]
)
def test_invalid_cookie_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a valid cookie name"):
        construct(cookie_name=name)


def test_path_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        construct(path="app")


def test_custom_cookie_name_reads_only_that_cookie(mode: str) -> None:
    site = Site(mode, cookie_name="session")
    assert site.request(cookie=f"session={make_token()}").authenticated_as == "1"
    assert site.request(cookie=f"access_token={make_token()}").seen["auth"] is False


# -- the default name: __Host- whenever it can be ------------------------------------------------


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({}, "__Host-access_token"),  # secure=True, no domain, path "/"
        ({"domain": "example.com"}, "__Secure-access_token"),
        ({"path": "/app"}, "__Secure-access_token"),
        ({"secure": False}, "access_token"),
        ({"cookie_name": "access_token"}, "access_token"),  # the demos' API keeps this name
    ],
)
def test_the_default_cookie_name_takes_the_strongest_prefix_the_options_allow(
    mode: str, options: dict[str, Any], name: str
) -> None:
    site = Site(mode, **{"secure": True, **options})
    assert site.cookie_name == name
    for written in all_cookie_writes(site, name):
        assert written.startswith(f"{name}=")


def test_a_tossed_cookie_cannot_log_in_a_victim_who_has_none(mode: str) -> None:
    """A sibling subdomain can plant `access_token` for the whole domain, never `__Host-`.

    Before the fix the default name was `access_token`: a victim without a valid cookie of
    his own was logged in as mallory, and renewal copied mallory's session into the victim's
    host-only cookie.
    """
    site = Site(mode, secure=True)
    planted = make_token(MALLORY, issued=time.time() - 4 * 24 * 3600)
    reply = site.request(cookie=f"access_token={planted}")
    assert reply.seen["auth"] is False
    assert reply.set_cookies(site.cookie_name) == []


def test_without_the_host_prefix_a_tossed_cookie_logs_in_a_victim_who_has_none(mode: str) -> None:
    """What SECURITY.md warns of for `cookie_name="access_token"` (the demos' choice)."""
    site = Site(mode, secure=True, cookie_name="access_token")
    assert site.request(cookie=f"access_token={make_token(MALLORY)}").authenticated_as == "666"


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("__host-access_token", {"secure": False}),
        ("__HOST-access_token", {"secure": True, "domain": "example.com"}),
        ("__hOsT-access_token", {"secure": True, "path": "/app"}),
        ("__secure-access_token", {"secure": False}),
        ("__SECURE-access_token", {"secure": False}),
    ],
)
def test_cookie_prefixes_are_checked_whatever_their_case(
    name: str, options: dict[str, Any]
) -> None:
    """Browsers match the prefixes without regard to case (and drop what breaks them)."""
    with pytest.raises(ValueError, match=r"must be secure=True|needs path='/' and no domain"):
        construct(cookie_name=name, **options)
