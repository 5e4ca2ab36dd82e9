"""The ``jwtcookie`` logger says why, precisely, and never writes a token or a secret."""

from __future__ import annotations

import logging
import time

import jwt
import pytest

from jwtcookie import Key, Keyring
from tests.harness import DAY, MALLORY, SECRET, Clock, Site, make_token

OTHER_SECRET = "another-secret-" + "z" * 50
NAMED = {"kid": "2026-11"}


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="jwtcookie")
    return caplog


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "jwtcookie"]


def test_start_up_logs_the_effective_configuration_without_the_secret(
    mode: str, logged: pytest.LogCaptureFixture
) -> None:
    Site(mode, protected_paths=["/api"], trusted_origins=["http://localhost:3000"])
    (line,) = lines(logged)
    assert "cookie access_token" in line
    assert "HS256" in line
    assert "protected paths ['/api']" in line
    assert "trusted origins ['http://localhost:3000']" in line
    assert SECRET not in line
    assert logged.records[0].levelno == logging.INFO


def test_a_refused_token_is_logged_with_its_precise_cause(
    mode: str, logged: pytest.LogCaptureFixture
) -> None:
    site = Site(mode)
    now = time.time()
    sent = {
        "expired": make_token(issued=now - 8 * DAY),
        "bad signature": make_token(key=OTHER_SECRET),
        "lives 30 days (exp - iat), longer than max_age": make_token(life=30 * DAY),
        "not a compact JWT": "garbage",
        "not valid yet: its iat/nbf is 60 min ahead": make_token(issued=now + 3600),
        "names an audience": make_token(aud="billing"),
    }
    logged.clear()
    for value in sent.values():
        site.request(cookie=f"access_token={value}")
    found = lines(logged)
    assert len(found) == len(sent)
    for cause, line in zip(sent, found, strict=True):
        assert line.startswith("jwtcookie: refused the cookie token ("), line
        assert cause in line
    for value in sent.values():
        assert all(value not in line for line in found)


def test_an_unknown_kid_and_a_missing_claim_are_named(
    mode: str, logged: pytest.LogCaptureFixture
) -> None:
    keys = Keyring([Key.hmac(SECRET, kid="2026-11")])
    site = Site(mode, keys=keys)
    logged.clear()
    site.request(cookie=f"access_token={make_token(headers={'kid': '2020-01'})}")
    no_iat = jwt.encode({"_id": "1", "exp": int(time.time()) + 60}, SECRET, headers=NAMED)
    site.request(cookie=f"access_token={no_iat}")
    first, second = lines(logged)
    assert "names no key (kid) this keyring holds" in first
    assert "no iat claim" in second


def test_hooks_and_duplicates_are_named(mode: str, logged: pytest.LogCaptureFixture) -> None:
    site = Site(mode, is_revoked=lambda claims: True)
    logged.clear()
    site.request(cookie=f"access_token={make_token()}")
    assert "(revoked): is_revoked() answered true" in lines(logged)[0]
    logged.clear()
    two_users = f"access_token={make_token(MALLORY)}; access_token={make_token()}"
    Site(mode).request(cookie=two_users)
    assert "is a sibling subdomain planting cookies?" in lines(logged)[-1]


def test_a_refused_cross_site_request_names_trusted_origins(
    mode: str, logged: pytest.LogCaptureFixture
) -> None:
    site = Site(mode)
    logged.clear()
    reply = site.request(
        "/logout",
        method="POST",
        cookie=f"access_token={make_token()}",
        headers=[("origin", "http://localhost:3000")],
    )
    assert reply.status == 403
    (line,) = lines(logged)
    assert "refused a cross-site POST to '/logout'" in line
    assert "trusted_origins=['http://localhost:3000']" in line


def test_a_renewal_is_logged_at_debug(mode: str, logged: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    site = Site(mode, clock=clock)
    value = site.login()
    clock.advance(4 * DAY)
    logged.clear()
    assert site.request(cookie=f"access_token={value}").cookie()
    renewal = [r for r in logged.records if "renewed" in r.getMessage()]
    assert [r.levelno for r in renewal] == [logging.DEBUG]
    assert value not in renewal[0].getMessage()


def test_nothing_is_logged_for_a_good_request_at_info(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    site = Site(mode)
    caplog.set_level(logging.INFO, logger="jwtcookie")
    caplog.clear()
    assert site.request(cookie=f"access_token={site.login()}").authenticated_as == "1"
    assert lines(caplog) == []


PERSONAL = {"_id": "u-5f1c9e", "sub": "ada@example.org", "username": "ada-lovelace-1815"}


def test_no_claim_value_or_token_is_logged_at_debug(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    """SECURITY.md's promise, through login, renewal, every kind of refusal and logout."""
    caplog.set_level(logging.DEBUG, logger="jwtcookie")
    clock = Clock()

    def action(path: str, auth: object) -> None:
        if path == "/login":
            auth.login(PERSONAL)  # type: ignore[attr-defined]
        elif path == "/logout":
            auth.logout()  # type: ignore[attr-defined]

    site = Site(
        mode, action, clock=clock, protected_paths=["/private"], on_error=lambda reason: None
    )
    revoking = Site(mode, action, clock=clock, is_revoked=lambda claims: True)
    token = site.login()
    clock.advance(4 * DAY)
    renewed = site.request("/private", cookie=f"access_token={token}").cookie()
    assert renewed
    sent = [token, renewed]
    for refused in (
        make_token(PERSONAL, issued=clock.now - 8 * DAY),
        make_token(PERSONAL, key=OTHER_SECRET),
        make_token(PERSONAL, life=30 * DAY),
        make_token(PERSONAL, aud="billing"),
        make_token(PERSONAL, issued=clock.now + 3600),
    ):
        sent.append(refused)
        assert site.request("/private", cookie=f"access_token={refused}").status == 401
    revoking.request(cookie=f"access_token={renewed}")
    duplicates = f"access_token={make_token(MALLORY)}; access_token={renewed}"
    site.request(cookie=duplicates)
    site.request("/logout", method="POST", cookie=f"access_token={renewed}")
    site.request("/logout", method="POST", headers=[("origin", "https://evil.example")])
    logged = "\n".join(
        record.getMessage() for record in caplog.records if record.name.startswith("jwtcookie")
    )
    assert "renewed" in logged
    assert "refused" in logged
    for value in (*PERSONAL.values(), *sent):
        assert value not in logged
    for token_sent in sent:  # not even its signature, nor its payload segment
        for segment in token_sent.split(".")[1:]:
            assert segment not in logged
