"""A cross-origin API wrapped by the middleware: the app's own CORS policy keeps working.

An SPA on another origin calls the API with ``Authorization: Bearer`` or anonymously; the
app allows it with its own CORS policy: Starlette's real ``CORSMiddleware`` (ASGI), a Flask
app writing its own CORS headers (WSGI). The middleware refuses only what its protection is
for: a cross-site write that carries our cookie. A cross-site request it lets through can
neither log in nor out. ``cross_site_protection="strict"`` refuses every cross-site write, as
the demos' contract asks.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from flask import Flask, jsonify
from flask import request as flask_request
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from jwtcookie import JWTCookieMiddleware, Settings, get_auth
from jwtcookie._request.origin import OriginGuard
from jwtcookie.revocations import Standing
from tests.harness import ALICE, MALLORY, SECRET, make_token
from tests.test_revocation import MemoryStore

SPA = "https://spa.example"
FROM_SPA = {"Origin": SPA, "Sec-Fetch-Site": "cross-site"}
OPTIONS: dict[str, Any] = {"secret": SECRET, "secure": False, "bearer": True}


def answer(auth: Any, path: str) -> dict[str, Any]:
    if path == "/login":
        auth.login(ALICE)
    elif path == "/logout":
        auth.logout()
    return {"auth": auth.is_authenticated, "id": auth.user.identity}


def starlette_api(**options: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        return JSONResponse(answer(get_auth(request.scope), request.url.path))

    app = Starlette(
        routes=[
            Route(path, endpoint, methods=["POST"]) for path in ("/items", "/login", "/logout")
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=[SPA],
                allow_methods=["*"],
                allow_headers=["Authorization", "Content-Type"],
                allow_credentials=True,
            )
        ],
    )
    return JWTCookieMiddleware(app, **{**OPTIONS, **options})


def flask_api(**options: Any) -> Any:
    app = Flask(__name__)

    @app.route("/items", methods=["POST", "OPTIONS"])
    @app.route("/login", methods=["POST", "OPTIONS"])
    @app.route("/logout", methods=["POST", "OPTIONS"])
    def endpoint() -> Any:
        if flask_request.method == "OPTIONS":
            return "", 204
        return jsonify(answer(get_auth(flask_request.environ), flask_request.path))

    @app.after_request
    def cors(response: Any) -> Any:  # the app's own CORS policy
        if flask_request.headers.get("Origin") == SPA:
            response.headers["Access-Control-Allow-Origin"] = SPA
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Access-Control-Allow-Methods"] = "POST"
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        return response

    app.wsgi_app = JWTCookieMiddleware(app.wsgi_app, **{**OPTIONS, **options})  # type: ignore[method-assign]
    return app


Reply = tuple[int, Mapping[str, Any], Any]  # status, headers, JSON body
Send = Callable[..., Reply]


def client(flavour: str, **options: Any) -> Send:
    """POST (or OPTIONS) a path with headers and an optional Cookie header, through the real
    framework stack."""
    if flavour == "asgi":
        test_client = TestClient(starlette_api(**options))

        def send_asgi(path: str, headers: Mapping[str, str], method: str = "POST") -> Reply:
            reply = test_client.request(method, path, headers=dict(headers))
            body = reply.json() if reply.headers.get("content-type") == "application/json" else None
            return reply.status_code, reply.headers, body

        return send_asgi
    flask_client = flask_api(**options).test_client(use_cookies=False)  # send our Cookie header

    def send_wsgi(path: str, headers: Mapping[str, str], method: str = "POST") -> Reply:
        reply = flask_client.open(path, method=method, headers=dict(headers))
        return reply.status_code, reply.headers, reply.get_json(silent=True)

    return send_wsgi


@pytest.fixture(params=["asgi", "wsgi"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"access_token={token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def set_cookies(headers: Any) -> list[str]:
    return [value for name, value in headers.items() if name.lower() == "set-cookie"]


def test_the_apps_cors_policy_works_for_anonymous_and_bearer_requests(flavour: str) -> None:
    """Before the fix every cross-origin write got 403, anonymous and Bearer ones included."""
    send = client(flavour)
    status, headers, _ = send(
        "/items", {**FROM_SPA, "Access-Control-Request-Method": "POST"}, "OPTIONS"
    )
    assert status < 300
    assert headers["access-control-allow-origin"] == SPA

    status, headers, body = send("/items", FROM_SPA)
    assert (status, body) == (200, {"auth": False, "id": ""})
    assert headers["access-control-allow-origin"] == SPA

    status, headers, body = send("/items", {**FROM_SPA, **bearer(make_token())})
    assert (status, body) == (200, {"auth": True, "id": "1"})
    assert headers["access-control-allow-origin"] == SPA


def test_a_cors_preflight_to_a_protected_path_reaches_the_apps_cors_policy(flavour: str) -> None:
    """A preflight never carries credentials: under ``protected_paths`` it used to be answered
    401 before the app's CORS policy could allow the write that follows."""
    send = client(flavour, protected_paths=["/items"])
    preflight = {**FROM_SPA, "Access-Control-Request-Method": "POST"}
    status, headers, _ = send("/items", preflight, "OPTIONS")
    assert status < 300
    assert headers["access-control-allow-origin"] == SPA
    status, _, body = send("/items", FROM_SPA)
    assert (status, body) == (401, {"error": "authentication required"})
    status, _, body = send("/items", {**FROM_SPA, **bearer(make_token())})
    assert (status, body) == (200, {"auth": True, "id": "1"})
    status, _, body = send("/items", {}, "OPTIONS")  # no Origin: no preflight, still guarded
    assert (status, body) == (401, {"error": "authentication required"})


def test_a_valid_bearer_token_authenticates_even_beside_our_cookie(flavour: str) -> None:
    """The Bearer token wins over the cookie, so the ambient cookie logs nobody in."""
    send = client(flavour)
    stale_cookie = cookie(make_token(MALLORY, issued=0, life=1))
    headers = {**FROM_SPA, **bearer(make_token()), **stale_cookie}
    status, reply_headers, body = send("/items", headers)
    assert (status, body) == (200, {"auth": True, "id": "1"})
    assert set_cookies(reply_headers) == [], "the cookie is neither renewed nor deleted"


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({}, id="cookie-alone"),
        pytest.param(bearer("not-a-token"), id="with-a-bad-bearer"),
        pytest.param(bearer(make_token(key="x" * 40)), id="with-a-forged-bearer"),
    ],
)
def test_a_cross_site_write_that_our_cookie_could_authenticate_is_refused(
    flavour: str, extra: dict[str, str]
) -> None:
    send = client(flavour)
    status, headers, body = send("/items", {**FROM_SPA, **cookie(make_token()), **extra})
    assert (status, body) == (403, {"error": "cross-origin request refused"})
    assert set_cookies(headers) == []


def test_a_cross_site_request_can_neither_log_in_nor_out(flavour: str) -> None:
    """The handler runs (the app's CORS allows it), but login() and logout() change no cookie:
    no login CSRF, no forced logout."""
    send = client(flavour)
    for path, headers in [
        ("/login", FROM_SPA),
        ("/login", {**FROM_SPA, **bearer(make_token(MALLORY))}),
        ("/logout", {**FROM_SPA, **bearer(make_token())}),
        ("/logout", FROM_SPA),
    ]:
        status, reply_headers, _ = send(path, headers)
        assert status == 200, path
        assert set_cookies(reply_headers) == [], path
    status, reply_headers, _ = send("/login", {"Sec-Fetch-Site": "same-origin"})
    assert set_cookies(reply_headers), "the control: a same-origin login sets the cookie"


def test_a_cross_site_bearer_logout_revokes_its_session_and_changes_no_cookie(
    flavour: str,
) -> None:
    """An SPA on another origin logs out with its Bearer token: the session is revoked, as
    the 200 says. Before the fix nothing was revoked and the token stayed valid. Another
    site's page cannot send the header, so this logout is the client's own; the browser's
    cookie (another login) is neither deleted nor revoked."""
    store = MemoryStore(Standing.CURRENT)
    send = client(flavour, revocations=store)
    spa_token = make_token(sid="spa-login")
    browser_cookie = cookie(make_token(sid="browser-login"))
    status, reply_headers, _ = send("/logout", {**FROM_SPA, **bearer(spa_token), **browser_cookie})
    assert status == 200
    assert store.sessions == {"spa-login"}
    assert set_cookies(reply_headers) == [], "no cross-site request deletes our cookie"
    assert send("/items", {**FROM_SPA, **bearer(spa_token)})[2]["auth"] is False
    send("/logout", {**FROM_SPA, "Authorization": "Bearer forged"})
    assert store.sessions == {"spa-login"}, "a refused token revokes nothing"


def test_strict_refuses_every_cross_site_write(flavour: str) -> None:
    send = client(flavour, cross_site_protection="strict")
    for headers in (FROM_SPA, {**FROM_SPA, **bearer(make_token())}):
        status, _, body = send("/items", headers)
        assert (status, body) == (403, {"error": "cross-origin request refused"})
    assert send("/items", {"Sec-Fetch-Site": "same-origin"})[0] == 200


def test_an_origin_pattern_trusts_the_subdomains_it_names(flavour: str) -> None:
    send = client(flavour, trusted_origins=["https://*.example.com"])
    with_cookie = cookie(make_token())
    for origin in ("https://app.example.com", "https://a.b.example.com"):
        status, headers, _ = send("/login", {"Origin": origin, **with_cookie})
        assert status == 200, origin
        assert set_cookies(headers), "a trusted origin may log in"
    for origin in (
        "https://example.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://evil-example.com",
        "https://app.example.com.evil",
        *HOSTS_THAT_ONLY_END_WITH_THE_DOMAIN,
    ):
        status, _, _ = send("/items", {"Origin": origin, **with_cookie})
        assert status == 403, origin


# Each ends with ".example.com" but names no subdomain of it: before the fix every one was
# trusted by https://*.example.com (the browser's origin is evil.com, or none at all).
HOSTS_THAT_ONLY_END_WITH_THE_DOMAIN = [
    "https://evil.com#.example.com",
    "https://evil.com?.example.com",
    "https://evil.com\\.example.com",
    "https://.example.com",
    "https://evil.com%2f.example.com",
    "https://evil.com .example.com",
    "https://evil_com.example.com",
]


def test_a_pattern_trusts_only_well_formed_origins_of_a_subdomain() -> None:
    guard = OriginGuard(["https://*.example.com"])
    assert guard.trusts("https://a.example.com")
    assert guard.trusts("HTTPS://A.B.Example.COM:443")
    for origin in HOSTS_THAT_ONLY_END_WITH_THE_DOMAIN:
        assert not guard.trusts(origin), origin


_LABEL_TEXT = st.text(alphabet=string.printable + "\u00e9\u0430", max_size=12)


@settings(max_examples=300, deadline=None)
@given(prefix=_LABEL_TEXT, suffix=st.sampled_from(["", ":443", ":8443", "/", "#", " "]))
def test_a_pattern_trusts_nothing_but_a_strict_subdomain_origin(prefix: str, suffix: str) -> None:
    origin = f"https://{prefix}.example.com{suffix}"
    expected = re.fullmatch(
        r"https://([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+example\.com(:443)?", origin.strip().lower()
    )
    assert OriginGuard(["https://*.example.com"]).trusts(origin) == bool(expected), origin


@pytest.mark.parametrize(
    "pattern",
    [
        "https://*",
        "https://*.com",
        "https://a.*.example.com",
        "https://*example.com",
        "*.example.com",
        "https://*.example.com/path",
        "https://*.127.0.0.1",
        "https://*.[::1]",
        "https://*.example..com",
        "ftp://*.example.com",
        "https://**.example.com",
        "https://*.example.com:*",
        "https://*.example.com#",
        "https://*.example.com?",
        "https://*.ex ample.com",
        "https://*.ex_ample.com",
        "https://*.-example.com",
        "*.github.io",
    ],
)
def test_a_malformed_origin_pattern_is_refused_at_construction(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"scheme://\*\.domain"):
        Settings(secret=SECRET, trusted_origins=[pattern])


@pytest.mark.parametrize("value", ["Strict", "lax", 1, None])
def test_cross_site_protection_takes_true_false_or_strict(value: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="cross_site_protection"):
        Settings(secret=SECRET, cross_site_protection=value)
