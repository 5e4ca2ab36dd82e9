"""The cache of verified tokens never makes a token valid that verification would refuse.

Every test goes through the public middleware around a tiny WSGI or ASGI app; time moves
through the injected clock. The size tests look at the codec's caches directly, since a
bound on memory is not visible from a response.
"""

from __future__ import annotations

from typing import Any

import pytest

from jwtcookie import Key, Keyring
from jwtcookie._tokens import verifying
from tests.harness import Clock, Reply, Site, claims_of, parse_set_cookie

OTHER_SECRET = "another-secret-entirely-" + "fedcba9876543210" * 3
HOUR = 3600


def make(mode: str, clock: Clock, **options: Any) -> Site:
    """A site whose tokens live an hour, with no leeway unless a test says otherwise."""
    options.setdefault("max_age", HOUR)
    options.setdefault("leeway", 0)
    return Site(mode, clock=clock, **options)


def send(site: Site, token: str) -> tuple[str, list[str]]:
    """The request's reason and the Set-Cookie values of its response."""
    reply: Reply = site.request(cookie=f"theme=dark; access_token={token}")
    return reply.seen["reason"], reply.set_cookies()


DELETED = ("access_token", "", "0")  # name, value, Max-Age of the one Set-Cookie that deletes


def deleting(set_cookies: list[str]) -> tuple[str, str, str] | None:
    """(name, value, Max-Age) of the response's one Set-Cookie."""
    if len(set_cookies) != 1:
        return None
    name, value, attributes = parse_set_cookie(set_cookies[0])
    return name, value, attributes.get("max-age", "")


def test_cached_token_is_refused_once_the_clock_passes_exp(mode: str, clock: Clock) -> None:
    site, start = make(mode, clock, renew_after=None), clock.now
    token = site.middleware.issue({"_id": "1", "username": "ann"})
    assert send(site, token)[0] == "ok"  # now cached
    clock.now = start + HOUR - 1
    assert send(site, token)[0] == "ok"
    clock.now = start + HOUR
    reason, set_cookies = send(site, token)
    assert (reason, deleting(set_cookies)) == ("expired", DELETED)


def test_cached_token_expires_exactly_at_exp_whatever_the_leeway(mode: str, clock: Clock) -> None:
    site, start = make(mode, clock, leeway=5, renew_after=None), clock.now
    token = site.middleware.issue({"_id": "1"})
    assert send(site, token)[0] == "ok"
    clock.now = start + HOUR - 1
    assert send(site, token)[0] == "ok"
    clock.now = start + HOUR
    assert send(site, token)[0] == "expired"


def test_cached_token_is_refused_when_is_revoked_turns_true(mode: str, clock: Clock) -> None:
    revoked = {"now": False}
    site = make(mode, clock, is_revoked=lambda claims: revoked["now"])
    token = site.middleware.issue({"_id": "1"})
    assert send(site, token)[0] == "ok"
    revoked["now"] = True
    assert send(site, token)[0] == "revoked"
    revoked["now"] = False
    assert send(site, token)[0] == "ok"  # the hook is asked on every request


def test_revoked_token_is_not_renewed_from_the_renewal_cache(mode: str, clock: Clock) -> None:
    revoked = {"now": False}
    site = make(mode, clock, is_revoked=lambda claims: revoked["now"])
    token = site.middleware.issue({"_id": "1"})
    clock.advance(HOUR * 0.75)  # past half its life: renewed
    reason, set_cookies = send(site, token)
    assert reason == "ok"
    assert len(set_cookies) == 1
    assert set_cookies[0].startswith("access_token=")
    revoked["now"] = True
    reason, set_cookies = send(site, token)
    assert (reason, deleting(set_cookies)) == ("revoked", DELETED)


def test_rotate_keys_forgets_tokens_verified_under_the_old_key(mode: str, clock: Clock) -> None:
    site = make(mode, clock)
    old_token = site.middleware.issue({"_id": "1"})
    assert send(site, old_token)[0] == "ok"  # cached
    site.middleware.rotate_keys(Keyring([Key.hmac(OTHER_SECRET)]))
    assert send(site, old_token)[0] == "invalid"
    new_token = site.middleware.issue({"_id": "1"})
    assert claims_of(new_token, OTHER_SECRET)["_id"] == "1"
    assert send(site, new_token)[0] == "ok"


def test_rotate_keys_does_not_hand_out_a_renewal_signed_with_the_old_key(
    mode: str, clock: Clock
) -> None:
    site = make(mode, clock)
    old_token = site.middleware.issue({"_id": "1"})
    clock.advance(HOUR * 0.75)
    reason, first = send(site, old_token)
    assert reason == "ok"
    assert len(first) == 1
    site.middleware.rotate_keys(Keyring([Key.hmac(OTHER_SECRET)]))
    reason, set_cookies = send(site, old_token)
    assert (reason, deleting(set_cookies)) == ("invalid", DELETED)


def test_a_verification_in_flight_during_rotate_keys_is_not_cached(
    mode: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request verifying with the old keyring while another thread rotates must not leave
    its token in the cache. Before the fix it was cached after the clear and stayed valid."""
    site = make(mode, clock)
    old_token = site.middleware.issue({"_id": "1"})
    read_token = verifying.read_token

    def read_while_rotating(*args: Any) -> Any:
        read = read_token(*args)  # the signature checked with the dropped key...
        site.middleware.rotate_keys(Keyring([Key.hmac(OTHER_SECRET)]))  # ...as it lands
        return read

    monkeypatch.setattr(verifying, "read_token", read_while_rotating)
    send(site, old_token)  # this request started before the rotation: either answer
    monkeypatch.setattr(verifying, "read_token", read_token)
    assert send(site, old_token)[0] == "invalid"


def test_a_tampered_copy_of_a_cached_token_is_refused(clock: Clock) -> None:
    site = make("wsgi", clock)
    token = site.middleware.issue({"_id": "1"})
    assert send(site, token)[0] == "ok"
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert send(site, forged)[0] == "invalid"


def test_the_cache_never_holds_more_than_cache_size_tokens(clock: Clock) -> None:
    site = make("wsgi", clock, cache_size=3)
    issued = [site.middleware.issue({"_id": str(number)}) for number in range(10)]
    clock.advance(HOUR * 0.75)  # every request also renews, filling the renewal cache
    for token in issued:
        reason, set_cookies = send(site, token)
        assert reason == "ok"
        assert len(set_cookies) == 1
        assert site.middleware.cache_info().verified <= 3
        assert site.middleware.cache_info().renewed <= 3
    assert site.middleware.cache_info() == (3, 3, 3)


def test_an_evicted_token_is_verified_again(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = count_decodes(monkeypatch)
    site = make("wsgi", clock, cache_size=2)
    first, second, third = (site.middleware.issue({"_id": str(number)}) for number in range(3))
    for token in (first, first, second, third):
        assert send(site, token)[0] == "ok"
    assert decoded == [first, second, third]
    assert send(site, first)[0] == "ok"  # evicted by third: verified again
    assert decoded == [first, second, third, first]


def test_cache_size_zero_verifies_every_request(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded = count_decodes(monkeypatch)
    site = make("wsgi", clock, cache_size=0)
    token = site.middleware.issue({"_id": "1"})
    for _ in range(3):
        assert send(site, token)[0] == "ok"
    assert decoded == [token] * 3
    assert site.middleware.cache_info().verified == 0
    clock.advance(HOUR)
    assert send(site, token)[0] == "expired"


def test_cache_size_zero_still_renews(clock: Clock) -> None:
    site = make("wsgi", clock, cache_size=0)
    token = site.middleware.issue({"_id": "1"})
    clock.advance(HOUR * 0.75)
    reply = site.request(cookie=f"access_token={token}")
    assert reply.seen["reason"] == "ok"
    fresh = reply.cookie()
    assert fresh
    assert claims_of(fresh)["iat"] == int(clock.now)
    assert site.middleware.cache_info().renewed == 0


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every token the middleware hands to PyJWT to verify."""
    decoded: list[str] = []
    real = verifying.read_token

    def counting(jws: Any, token: str, *args: Any) -> Any:
        decoded.append(token)
        return real(jws, token, *args)

    monkeypatch.setattr(verifying, "read_token", counting)
    return decoded
