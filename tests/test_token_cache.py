"""The cache of verified tokens never makes a token valid that verification would refuse.

Every test goes through the public middleware around a tiny WSGI or ASGI app; time moves
through the injected clock. The size tests look at the codec's caches directly, since a
bound on memory is not visible from a response.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import jwt
import pytest

from jwtcookie import JWTCookieMiddleware, Key, Keyring, Reason, get_auth, tokens
from jwtcookie.wsgi import WSGIMiddleware

SECRET = "cache-test-secret-" + "0123456789abcdef" * 3
OTHER_SECRET = "another-secret-entirely-" + "fedcba9876543210" * 3
HOUR = 3600
START = 1_750_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    scope["state"]["auth"] = get_auth(scope)  # the state dict is shared with the caller
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def make(flavour: str, clock: Clock, **options: Any) -> Any:
    app = wsgi_app if flavour == "wsgi" else asgi_app
    options.setdefault("secret", SECRET)
    options.setdefault("max_age", HOUR)
    options.setdefault("leeway", 0)
    return JWTCookieMiddleware(app, secure=False, clock=clock, **options)


def request(middleware: Any, token: str) -> tuple[Reason, list[str]]:
    """The request's reason and the Set-Cookie values of its response."""
    cookie = f"theme=dark; access_token={token}"
    if isinstance(middleware, WSGIMiddleware):
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "HTTP_COOKIE": cookie,
        }
        sent: list[str] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            sent.extend(value for name, value in headers if name.lower() == "set-cookie")

        middleware(environ, start_response)
        return get_auth(environ).reason, sent

    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    state: dict[str, Any] = {}
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "scheme": "http",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
        "server": ("testserver", 80),
        "state": state,
    }
    asyncio.run(middleware(scope, receive, send))
    set_cookies = [
        value.decode()
        for message in messages
        if message["type"] == "http.response.start"
        for name, value in message["headers"]
        if name == b"set-cookie"
    ]
    return state["auth"].reason, set_cookies


FLAVOURS = pytest.mark.parametrize("flavour", ["wsgi", "asgi"])


@FLAVOURS
def test_cached_token_is_refused_once_the_clock_passes_exp(flavour: str) -> None:
    clock = Clock()
    middleware = make(flavour, clock, renew_after=None)
    token = middleware.issue({"_id": "1", "username": "ann"})
    assert request(middleware, token)[0] == Reason.OK  # now cached
    clock.now = START + HOUR - 1
    assert request(middleware, token)[0] == Reason.OK
    clock.now = START + HOUR
    reason, set_cookies = request(middleware, token)
    assert reason == Reason.EXPIRED
    assert set_cookies == [middleware.delete_cookie_header]


@FLAVOURS
def test_cached_token_expires_exactly_at_exp_whatever_the_leeway(flavour: str) -> None:
    clock = Clock()
    middleware = make(flavour, clock, leeway=5, renew_after=None)
    token = middleware.issue({"_id": "1"})
    assert request(middleware, token)[0] == Reason.OK
    clock.now = START + HOUR - 1
    assert request(middleware, token)[0] == Reason.OK
    clock.now = START + HOUR
    assert request(middleware, token)[0] == Reason.EXPIRED


@FLAVOURS
def test_cached_token_is_refused_when_is_revoked_turns_true(flavour: str) -> None:
    revoked = {"now": False}
    middleware = make(flavour, Clock(), is_revoked=lambda claims: revoked["now"])
    token = middleware.issue({"_id": "1"})
    assert request(middleware, token)[0] == Reason.OK
    revoked["now"] = True
    assert request(middleware, token)[0] == Reason.REVOKED
    revoked["now"] = False
    assert request(middleware, token)[0] == Reason.OK  # the hook is asked on every request


@FLAVOURS
def test_revoked_token_is_not_renewed_from_the_renewal_cache(flavour: str) -> None:
    clock = Clock()
    revoked = {"now": False}
    middleware = make(flavour, clock, is_revoked=lambda claims: revoked["now"])
    token = middleware.issue({"_id": "1"})
    clock.now = START + HOUR * 0.75  # past half its life: renewed
    reason, set_cookies = request(middleware, token)
    assert reason == Reason.OK
    assert len(set_cookies) == 1
    assert set_cookies[0].startswith("access_token=")
    revoked["now"] = True
    reason, set_cookies = request(middleware, token)
    assert reason == Reason.REVOKED
    assert set_cookies == [middleware.delete_cookie_header]


@FLAVOURS
def test_rotate_keys_forgets_tokens_verified_under_the_old_key(flavour: str) -> None:
    clock = Clock()
    middleware = make(flavour, clock)
    old_token = middleware.issue({"_id": "1"})
    assert request(middleware, old_token)[0] == Reason.OK  # cached
    middleware.rotate_keys(Keyring([Key.hmac(OTHER_SECRET)]))
    assert request(middleware, old_token)[0] == Reason.INVALID
    new_token = middleware.issue({"_id": "1"})
    assert claims_of(new_token, OTHER_SECRET)["_id"] == "1"
    assert request(middleware, new_token)[0] == Reason.OK


@FLAVOURS
def test_rotate_keys_does_not_hand_out_a_renewal_signed_with_the_old_key(flavour: str) -> None:
    clock = Clock()
    middleware = make(flavour, clock)
    old_token = middleware.issue({"_id": "1"})
    clock.now = START + HOUR * 0.75
    reason, first = request(middleware, old_token)
    assert reason == Reason.OK
    assert len(first) == 1
    middleware.rotate_keys(Keyring([Key.hmac(OTHER_SECRET)]))
    reason, second = request(middleware, old_token)
    assert reason == Reason.INVALID
    assert second == [middleware.delete_cookie_header]


@FLAVOURS
def test_a_verification_in_flight_during_rotate_keys_is_not_cached(
    flavour: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request verifying with the old keyring while another thread rotates must not leave
    its token in the cache. Before the fix it was cached after the clear and stayed valid."""
    clock = Clock()
    middleware = make(flavour, clock)
    old_token = middleware.issue({"_id": "1"})
    read_claims = tokens.read_claims

    def read_while_rotating(*args: Any) -> Any:
        claims = read_claims(*args)  # the signature checked with the dropped key...
        middleware.rotate_keys(Keyring([Key.hmac(OTHER_SECRET)]))  # ...as the rotation lands
        return claims

    monkeypatch.setattr(tokens, "read_claims", read_while_rotating)
    request(middleware, old_token)  # this request started before the rotation: either answer
    monkeypatch.setattr(tokens, "read_claims", read_claims)
    assert request(middleware, old_token)[0] == Reason.INVALID


def test_a_tampered_copy_of_a_cached_token_is_refused() -> None:
    middleware = make("wsgi", Clock())
    token = middleware.issue({"_id": "1"})
    assert request(middleware, token)[0] == Reason.OK
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert request(middleware, forged)[0] == Reason.INVALID


def test_the_cache_never_holds_more_than_cache_size_tokens() -> None:
    clock = Clock()
    middleware = make("wsgi", clock, cache_size=3)
    tokens = [middleware.issue({"_id": str(number)}) for number in range(10)]
    clock.now = START + HOUR * 0.75  # every request also renews, filling the renewal cache
    for token in tokens:
        reason, set_cookies = request(middleware, token)
        assert reason == Reason.OK
        assert len(set_cookies) == 1
        assert middleware.cache_info().verified <= 3
        assert middleware.cache_info().renewed <= 3
    assert middleware.cache_info() == (3, 3, 3)


def test_an_evicted_token_is_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = count_decodes(monkeypatch)
    middleware = make("wsgi", Clock(), cache_size=2)
    first, second, third = (middleware.issue({"_id": str(number)}) for number in range(3))
    for token in (first, first, second, third):
        assert request(middleware, token)[0] == Reason.OK
    assert decoded == [first, second, third]
    assert request(middleware, first)[0] == Reason.OK  # evicted by third: verified again
    assert decoded == [first, second, third, first]


def test_cache_size_zero_verifies_every_request(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = count_decodes(monkeypatch)
    clock = Clock()
    middleware = make("wsgi", clock, cache_size=0)
    token = middleware.issue({"_id": "1"})
    for _ in range(3):
        assert request(middleware, token)[0] == Reason.OK
    assert decoded == [token] * 3
    assert middleware.cache_info().verified == 0
    clock.now = START + HOUR
    assert request(middleware, token)[0] == Reason.EXPIRED


def test_cache_size_zero_still_renews(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    middleware = make("wsgi", clock, cache_size=0)
    token = middleware.issue({"_id": "1"})
    clock.now = START + HOUR * 0.75
    reason, set_cookies = request(middleware, token)
    assert reason == Reason.OK
    fresh = set_cookies[0].split(";")[0].removeprefix("access_token=")
    assert claims_of(fresh, SECRET)["iat"] == int(clock.now)
    assert middleware.cache_info().renewed == 0


def claims_of(token: str, secret: str) -> dict[str, Any]:
    """The claims, signature checked; time is the test's clock, so PyJWT's is not asked."""
    return jwt.decode(token, secret, algorithms=["HS256"], options={"verify_exp": False})


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every token the middleware hands to PyJWT to verify."""
    decoded: list[str] = []
    real = tokens.read_claims

    def counting(jws: Any, token: str, *args: Any) -> Any:
        decoded.append(token)
        return real(jws, token, *args)

    monkeypatch.setattr(tokens, "read_claims", counting)
    return decoded
