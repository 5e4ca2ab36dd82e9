"""The two questions a framework adapter asks the policy instead of re-deriving the answer
(jwtcookie.contrib.django, DRF, Ninja): does the browser vouch for this unsafe request, and
does the token come from a Bearer header rather than the cookie? Asked of views built from an
ASGI scope and from a WSGI environ alike."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jwtcookie import Auth, Settings
from jwtcookie._request.policy import Policy
from jwtcookie._request.responses import REFUSED_CROSS_SITE
from jwtcookie._request.view import RequestView
from tests.harness import SECRET, make_token

BOB = {"_id": "2", "username": "bob"}


def views(method: str, headers: dict[str, str], *, websocket: bool = False) -> list[RequestView]:
    """The same request as uvicorn and as a WSGI server would hand it over (a WebSocket
    handshake: as uvicorn alone, WSGI has none)."""
    scope: dict[str, Any] = {
        "type": "websocket" if websocket else "http",
        "method": method,
        "path": "/",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
    }
    if websocket:
        return [RequestView.from_scope(scope)]
    environ = {"REQUEST_METHOD": method, "PATH_INFO": "/"}
    environ |= {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    return [RequestView.from_scope(scope), RequestView.from_environ(environ)]


def policy(**options: Any) -> Policy:
    return Policy(Settings(secret=SECRET, secure=False, **options))


def test_the_browser_vouches_only_for_unsafe_same_origin_or_trusted_requests() -> None:
    plain = policy()
    trusting = policy(trusted_origins=["https://app.example"])
    unguarded = policy(cross_site_protection=False)
    host = {"Host": "api.example"}
    for view in views("POST", host | {"Sec-Fetch-Site": "Same-Origin"}):
        assert plain.csrf_already_checked(view)
        assert not unguarded.csrf_already_checked(view), (
            "with protection off, the framework checks all"
        )
    for view in views("GET", host | {"Sec-Fetch-Site": "same-origin"}):
        assert not plain.csrf_already_checked(view), "a safe request needs no vouching"
    for view in views("GET", host | {"Sec-Fetch-Site": "same-origin"}, websocket=True):
        assert plain.csrf_already_checked(view), "a WebSocket handshake is unsafe"
    for site in ("same-site", "cross-site", "none"):
        for view in views("POST", host | {"Sec-Fetch-Site": site}):
            assert not plain.csrf_already_checked(view), site
    for view in views("POST", host | {"Origin": "https://app.example"}):
        assert trusting.csrf_already_checked(view)
        assert not plain.csrf_already_checked(view), (
            "an untrusted origin is for the framework to check"
        )
    for view in views("POST", host | {"Origin": "https://api.example"}):
        assert not plain.csrf_already_checked(view), "Origin alone is not the browser's own word"
    for view in views("POST", host):
        assert not plain.csrf_already_checked(view), (
            "no Fetch Metadata: a non-browser client or an old one"
        )


@settings(deadline=None)  # no timing in tests
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    fetch_site=st.none() | st.sampled_from(["same-origin", "same-site", "cross-site", "none"]),
    origin=st.none() | st.sampled_from(["https://app.example", "https://api.example", "null"]),
)
def test_a_vouched_request_is_never_one_the_core_refuses(
    method: str, fetch_site: str | None, origin: str | None
) -> None:
    headers = {"Host": "api.example"}
    if fetch_site is not None:
        headers["Sec-Fetch-Site"] = fetch_site
    if origin is not None:
        headers["Origin"] = origin
    for options in ({}, {"trusted_origins": ["https://app.example"]}):
        checked = policy(**options)
        for view in views(method, headers):
            if checked.csrf_already_checked(view):
                assert checked.admit(view) is not REFUSED_CROSS_SITE


def test_reads_bearer_names_the_token_the_core_logs_in_with() -> None:
    cookie = {"Cookie": f"access_token={make_token()}"}  # alice
    bob = make_token(BOB)
    with_bearer = policy(bearer=True, cookie_name="access_token")
    cookie_only = policy(cookie_name="access_token")
    cases = [
        (with_bearer, f"Bearer {bob}", True),
        (with_bearer, f"bearer   {bob}  ", True),
        (with_bearer, "Bearer ", False),
        (with_bearer, f"Basic {bob}", False),
        (cookie_only, f"Bearer {bob}", False),
    ]
    for checked, authorization, bearer in cases:
        for view in views("GET", cookie | {"Authorization": authorization}):
            assert checked.reader.reads_bearer(view) is bearer, authorization
            auth = checked.admit(view)
            assert isinstance(auth, Auth)
            assert auth.user["username"] == ("bob" if bearer else "alice"), authorization
