"""Hostile Cookie headers and other request headers, through WSGI and ASGI alike.

The duplicate rule (SECURITY.md): of up to four same-named ``access_token`` cookies, the
first valid one counts; valid duplicates that name different users make the request
anonymous, and so do more than four duplicates. A forged duplicate therefore never shadows
or upgrades the real one, whichever order the browser sends them in.
"""

from __future__ import annotations

import asyncio
import math
import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from jwtcookie import JWTCookieMiddleware
from jwtcookie._request.cookies import MAX_DUPLICATE_COOKIES
from jwtcookie.revocations import Standing
from tests.harness import (
    ALICE,
    MALLORY,
    MODES,
    SECRET,
    WEEK,
    Reply,
    Site,
    assert_anonymous,
    bare_app,
    make_token,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # starlette 1.x on httpx, not httpx2
    from starlette.testclient import TestClient

ATTACKER_SECRET = "attacker-" + "k" * 60


def cookies(*values: str, name: str = "access_token") -> str:
    return "; ".join(f"{name}={value}" for value in values)


def test_the_drivers_agree_with_real_test_clients() -> None:
    """The direct drivers below see what werkzeug's and Starlette's clients see."""
    good, theirs = make_token(), make_token(MALLORY)
    wsgi = Client(
        JWTCookieMiddleware(bare_app("wsgi"), secret=SECRET, secure=False), use_cookies=False
    )
    assert wsgi.get("/", headers={"Cookie": cookies("junk", good)}).json["id"] == "1"
    asgi = TestClient(Site("asgi").middleware)  # no `with`: no lifespan
    assert asgi.get("/", headers={"Cookie": cookies("junk", good)}).json()["id"] == "1"
    assert asgi.get("/", headers={"Cookie": cookies(theirs, good)}).json()["auth"] is False


# -- duplicates -------------------------------------------------------------------------------


@pytest.mark.parametrize("forged_first", [True, False])
def test_forged_duplicate_never_shadows_a_valid_cookie(mode: str, forged_first: bool) -> None:
    good = make_token()
    for forged in (
        make_token(MALLORY, ATTACKER_SECRET),
        make_token({**ALICE, "role": "admin"}, ATTACKER_SECRET),
        "garbage",
        "",
        make_token(MALLORY, issued=0),
    ):
        order = (forged, good) if forged_first else (good, forged)
        reply = Site(mode).request(cookie=cookies(*order))
        assert reply.authenticated_as == "1"
        assert "role" not in reply.seen["claims"], "a forged duplicate never upgrades"
        assert reply.cookie() is None, "the valid cookie is not deleted"


@pytest.mark.parametrize("mallory_first", [True, False])
def test_valid_duplicates_naming_different_users_are_anonymous(
    mode: str, mallory_first: bool
) -> None:
    """A planted cookie for the attacker's own account never logs the victim in as him."""
    pair = (
        (make_token(MALLORY), make_token())
        if mallory_first
        else (make_token(), make_token(MALLORY))
    )
    assert_anonymous(Site(mode).request(cookie=cookies(*pair)))


def test_more_than_four_duplicates_are_anonymous(mode: str) -> None:
    """Padding with the attacker's valid tokens cannot push the victim's out of sight.

    Before the fix only the first four were read, so four of mallory's tokens followed by
    alice's logged alice's browser in as mallory.
    """
    planted = [make_token(MALLORY)] * 4
    assert_anonymous(Site(mode).request(cookie=cookies(*planted, make_token())))
    assert_anonymous(
        Site(mode).request(cookie=cookies(*(["junk"] * 4), make_token(), make_token()))
    )


@pytest.mark.parametrize(
    "planted", [["junk"] * 5, [make_token(MALLORY)]], ids=["many", "other-user"]
)
def test_planted_duplicates_do_not_delete_the_users_cookie(mode: str, planted: list[str]) -> None:
    """Cookies tossed by a sibling subdomain make the request anonymous, but the response
    must not delete the real (host-only) cookie: that would log the user out for good."""
    reply = Site(mode).request(cookie=cookies(*planted, make_token()))
    assert_anonymous(reply)
    assert reply.cookie() is None


class StaleStore:
    """A revocation store that cannot vouch for its answers (its Redis gone too long)."""

    standing = Standing.CANNOT_ANSWER
    window = math.inf

    def is_revoked(self, claims: Any) -> bool:
        return False

    def user_not_before(self, claims: Any) -> None:
        return None

    def revoke_session(self, session_id: str) -> None:
        return None


@pytest.mark.parametrize("planted_first", [True, False])
def test_a_planted_duplicate_never_deletes_a_cookie_that_cannot_be_judged_now(
    mode: str, planted_first: bool
) -> None:
    """A stale store makes the real cookie `unavailable` (kept); junk planted beside it used
    to turn the answer into `invalid`, and the response deleted the real cookie."""
    order = ("junk", make_token()) if planted_first else (make_token(), "junk")
    reply = Site(mode, revocations=StaleStore()).request(cookie=cookies(*order))
    assert_anonymous(reply)
    assert reply.seen["reason"] == "unavailable"
    assert reply.set_cookies() == [], "the real cookie is kept"


# A sibling subdomain plants `access_token=X; Path=/api` (sent first, being more specific) and
# two cookies holding a lone `"`; the browser sends them around the user's real cookie. A
# parser that reads quoted strings sees `a` as `"; access_token=REAL; z="`.
QUOTE_PLANTED = 'access_token={planted}; a="; access_token={real}; z="'


def test_a_planted_quote_never_hides_the_users_cookie(mode: str) -> None:
    """Before the fix only the planted garbage was seen: anonymous, and the real cookie deleted."""
    reply = Site(mode).request(cookie=QUOTE_PLANTED.format(planted="junk", real=make_token()))
    assert reply.authenticated_as == "1"
    assert reply.cookie() is None, "the real cookie is neither deleted nor overwritten"


def test_a_planted_quote_never_turns_a_duplicate_into_a_login(mode: str) -> None:
    """Before the fix the victim's browser was logged in as mallory (login CSRF)."""
    reply = Site(mode).request(
        cookie=QUOTE_PLANTED.format(planted=make_token(MALLORY), real=make_token())
    )
    assert_anonymous(reply)
    assert reply.cookie() is None


def test_a_planted_quote_never_hides_a_host_prefixed_cookie(mode: str) -> None:
    """A `__Host-` cookie cannot be planted, but quotes around it used to hide it (denial)."""
    site = Site(mode, cookie_name="__Host-access_token", secure=True)
    header = f'a="; __Host-access_token={make_token()}; z="'
    assert site.request(cookie=header).authenticated_as == "1"


def test_up_to_four_duplicates_are_read(mode: str) -> None:
    reply = Site(mode).request(cookie=cookies("a", "b", "c", make_token()))
    assert reply.authenticated_as == "1"


def test_duplicates_of_the_same_user_use_the_first_valid_one(mode: str) -> None:
    older, newer = make_token(issued=1_000), make_token()  # `older` expired long ago
    reply = Site(mode).request(cookie=cookies(older, make_token({**ALICE, "n": 2}), newer))
    assert reply.seen["claims"]["n"] == 2  # the first *valid* one


def test_duplicates_without_an_identity_must_agree_on_every_claim(mode: str) -> None:
    """Tokens without ``_id``/``sub`` all have identity ''; that alone is no proof of one user."""
    theirs, ours = make_token({"email": "m@evil.example"}), make_token({"email": "a@example.com"})
    assert_anonymous(Site(mode).request(cookie=cookies(theirs, ours)))
    reply = Site(mode).request(cookie=cookies(ours, ours))
    assert reply.seen["auth"] is True


def test_duplicates_identified_by_sub_must_agree_on_sub(mode: str) -> None:
    """Tokens from an OAuth-style issuer name the user in ``sub`` alone."""
    theirs, ours = make_token({"sub": "mallory"}), make_token({"sub": "alice"})
    assert_anonymous(Site(mode).request(cookie=cookies(theirs, ours)))
    assert Site(mode).request(cookie=cookies(ours, ours)).seen["auth"] is True


def test_duplicates_across_several_cookie_headers_follow_the_same_rule(mode: str) -> None:
    site = Site(mode)
    reply = site.request(
        cookie=cookies(make_token(MALLORY)), headers=[("cookie", cookies(make_token()))]
    )
    assert_anonymous(reply)
    reply = site.request(cookie=cookies("junk"), headers=[("cookie", cookies(make_token()))])
    assert reply.authenticated_as == "1"


# -- size and count ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [4097, 100_000, 2_000_000])
def test_oversized_cookie_is_refused(mode: str, size: int) -> None:
    reply = Site(mode).request(cookie="access_token=" + "A" * size)
    assert_anonymous(reply)
    assert reply.cookie() == ""


def test_oversized_cookie_header_never_crashes(mode: str) -> None:
    junk = "; ".join(f"c{i}={'x' * 200}" for i in range(5_000))  # about 1 MB
    reply = Site(mode).request(cookie=f"{junk}; access_token={make_token()}")
    assert reply.authenticated_as == "1"
    assert_anonymous(Site(mode).request(cookie=junk + "; access_token=" + "B" * 1_000_000))


def test_many_cookies_never_crash(mode: str) -> None:
    many = "; ".join(f"k{i}=v{i}" for i in range(10_000))
    assert Site(mode).request(cookie=f"{many}; access_token={make_token()}").authenticated_as == "1"
    assert_anonymous(Site(mode).request(cookie=many))


def test_thousands_of_access_token_cookies_are_anonymous(mode: str) -> None:
    assert_anonymous(Site(mode).request(cookie=cookies(*([make_token()] * 5_000))))


def test_many_cookie_headers_never_crash(mode: str) -> None:
    extra = [("cookie", f"n{i}=v") for i in range(2_000)]
    reply = Site(mode).request(cookie=cookies(make_token()), headers=extra)
    assert reply.authenticated_as == "1"


# -- odd syntax, control and non-ASCII bytes ---------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        b"",
        b";",
        b";;;;",
        b"=",
        b"access_token",
        b"access_token=",
        b"access_token==",
        b'access_token="',
        b'access_token=""',
        b'access_token="unterminated',
        b"access_token=\\",
        b"access_token =x; access_token\t=y",
        b"ACCESS_TOKEN=x",
        b"access_token=a b c",
        b"access_token=a,b",
        b"$Version=1; access_token=x; $Path=/",
        b"access_token=\x00\x01\x02",
        b"access_token=\x7f\x1b[2J",
        b"access_token=\xff\xfe\xfd",
        "access_token=é€😀".encode(),
        b"\x00access_token=x",
        b"access_token\x00=x",
        b"access_token=%00%0d%0a",
        b"a=\r\nSet-Cookie: pwned=1",
    ],
)
def test_odd_cookie_syntax_control_and_non_ascii_bytes_are_anonymous(
    mode: str, header: bytes
) -> None:
    reply = Site(mode).request(cookie=header)
    assert_anonymous(reply)
    assert not any("pwned" in value for _, value in reply.headers)


def test_quoted_valid_token_never_crashes(mode: str) -> None:
    """werkzeug unquotes a quoted value; a quoted good token is still that token."""
    reply = Site(mode).request(cookie=f'access_token="{make_token()}"')
    assert reply.status == 200


def test_control_and_non_ascii_bytes_around_a_valid_token(mode: str) -> None:
    good = make_token()
    for header in (
        f"x=\x00; access_token={good}".encode("latin-1"),
        f"x=\xff\xfe; access_token={good}".encode("latin-1"),
        f"x=é; access_token={good}".encode(),
    ):
        assert Site(mode).request(cookie=header).authenticated_as == "1"
    for header in (f"access_token={good}\x00", f"access_token=\x01{good}"):
        assert_anonymous(Site(mode).request(cookie=header.encode("latin-1")))


HOSTILE_VALUES = [b"\x00", b"\r\n", b"\xff\xfe", "é€😀".encode(), b"\x7f", b" " * 10_000, b""]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
@pytest.mark.parametrize(
    "name", ["origin", "sec-fetch-site", "host", "authorization", "x-csrf-token", "user-agent"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_control_and_non_ascii_bytes_in_other_headers_never_crash(
    mode: str, name: str, value: bytes, method: str
) -> None:
    """Either the request goes on or it is refused with the documented 403; never a 5xx."""
    for options in ({}, {"bearer": True}, {"double_submit": True}):
        site = Site(mode, **options)
        reply = site.request(method=method, cookie=cookies(make_token()), headers=[(name, value)])
        assert reply.status in (200, 403), reply
        if reply.status == 403:
            assert method == "POST"
            assert "error" in reply.json


@pytest.mark.parametrize(
    "authorization",
    [
        b"Bearer",
        b"Bearer ",
        b"Bearer  \t",
        b"bearer x.y.z",
        b"Bearer \x00",
        b"Basic Zm9vOmJhcg==",
        "Bearer é".encode(),
        b"Bearer " + b"A" * 100_000,
        b"Bearer a b c",
    ],
)
def test_hostile_bearer_headers_are_anonymous(mode: str, authorization: bytes) -> None:
    reply = Site(mode, bearer=True).request(headers=[("authorization", authorization)])
    assert_anonymous(reply)


def test_a_forged_bearer_token_does_not_log_in_even_beside_a_valid_cookie(mode: str) -> None:
    """Bearer wins when on; a forged one makes the request anonymous, it never falls back."""
    site = Site(mode, bearer=True)
    reply = site.request(
        cookie=cookies(make_token()),
        headers=[("authorization", f"Bearer {make_token(MALLORY, ATTACKER_SECRET)}")],
    )
    assert_anonymous(reply)


# -- properties -------------------------------------------------------------------------------

SITES = {mode: Site(mode) for mode in MODES}
GUARDED = {mode: Site(mode, bearer=True, double_submit=True) for mode in MODES}
GOOD = make_token(life=WEEK)
THEIRS = make_token(MALLORY)
FAST = settings(max_examples=200, deadline=None)

pieces = st.one_of(
    st.sampled_from(
        [
            "access_token",
            "access_token=",
            "=",
            ";",
            "; ",
            '"',
            "\\",
            " ",
            "\t",
            ",",
            GOOD,
            THEIRS,
            make_token(MALLORY, ATTACKER_SECRET),
            "csrf_token=",
            "\x00",
            "é",
        ]
    ),
    st.text(max_size=20),
)
cookie_headers = st.lists(pieces, max_size=12).map("".join)


def browser_split(header: str, name: str) -> list[str]:
    """Every value of ``name`` when the header is read as browsers build it (RFC 6265 §5.4)."""
    pairs = [segment.split("=", 1) for segment in header.split(";") if "=" in segment]
    return [value.strip(" \t") for key, value in pairs if key.strip(" \t") == name]


def run_both(sites: dict[str, Site], **request: Any) -> list[Reply]:
    replies = [site.request(**request) for site in sites.values()]
    for reply in replies:
        assert reply.status in (200, 403), (reply.status, reply.body)
    return replies


@FAST
@given(st.binary(max_size=400))
def test_any_cookie_header_bytes_never_crash(header: bytes) -> None:
    for reply in run_both(SITES, cookie=header):
        assert reply.status == 200


@FAST
@given(cookie_headers)
def test_any_cookie_header_logs_in_exactly_as_the_duplicate_rule_says(
    header: str,
) -> None:
    raw = header.encode("utf-8", "surrogatepass")
    values = browser_split(raw.decode("latin-1"), "access_token")
    valid = {value for value in values if value in (GOOD, THEIRS)}
    expected = None
    if len(values) <= MAX_DUPLICATE_COOKIES and len(valid) == 1:
        expected = "1" if valid == {GOOD} else "666"
    for reply in run_both(SITES, cookie=raw):
        assert reply.authenticated_as == expected


@FAST
@given(
    header=cookie_headers,
    method=st.sampled_from(["GET", "POST", "DELETE"]),
    others=st.lists(
        st.tuples(
            st.sampled_from(["origin", "sec-fetch-site", "authorization", "x-csrf-token"]),
            st.binary(max_size=60),
        ),
        max_size=4,
    ),
)
def test_any_request_headers_never_crash_any_option(
    header: str, method: str, others: list[tuple[str, bytes]]
) -> None:
    raw = header.encode("utf-8", "surrogatepass")
    for sites in (SITES, GUARDED):
        for reply in run_both(sites, method=method, cookie=raw, headers=others):
            if reply.status == 403:
                assert method != "GET"


def test_asgi_websocket_with_hostile_cookie_gets_anonymous_user() -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["user"])

    middleware = JWTCookieMiddleware(app, secret=SECRET)
    scope = {"type": "websocket", "path": "/", "headers": [(b"cookie", b"access_token=\xff.\x00")]}

    async def nothing() -> Any:
        return {}

    async def ignore(message: Any) -> None:
        return None

    asyncio.run(middleware(scope, nothing, ignore))
    assert seen[0].is_authenticated is False
