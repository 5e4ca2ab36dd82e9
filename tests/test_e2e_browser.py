"""A real browser against both demos: Playwright driving Debian's chromium, headless.

The demos run as real servers on two 127.0.0.1 ports with one JWT_SECRET (and separate
databases). Each test gets a fresh browser context (its own cookie jar) in one browser per
module. Cookies belong to a host, not a port, so both demos see the same `access_token`:
that is the single sign-on test. A third tiny site on another port plays the attacker:
same site as the demos (Chromium sends SameSite=Lax cookies to it) but another origin,
which the contract refuses (`Sec-Fetch-Site: same-site`).

Skipped, with the reason, when the playwright package or /usr/bin/chromium is missing
(`.ci/run` installs both); the server tests in test_demo_servers.py run regardless.
"""

from __future__ import annotations

import html
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.demo_helpers import DEMOS, PASSWORD, demo_command, demo_env, unique_username
from tests.harness import DAY, WEEK, claims_of, make_token, parse_set_cookie
from tests.scenarios import LOGIN_ATTRIBUTES
from tests.servers import ARTIFACTS, LOOPBACK, STOP_SECONDS, Server, running_server

if os.environ.get("JWTCOOKIE_REQUIRE_BROWSER") == "1":
    import playwright.sync_api as sync_api  # CI installed it: missing is a failure there
else:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    )

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")  # Debian's; never a browser Playwright downloads
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000  # every Playwright wait and expectation ends here at the latest
COOKIE = "access_token"
expect = sync_api.expect
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        message = f"chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("JWTCOOKIE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)  # CI installed it: a missing browser is a failure there
        pytest.skip(message)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def demo_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """Both demos at once, same JWT_SECRET, own databases: what single sign-on needs."""
    directory = tmp_path_factory.mktemp("browser-demos")
    with (
        running_server(
            "flask_demo", demo_command("flask_demo"), demo_env(directory / "flask.sqlite3")
        ) as flask_server,
        running_server(
            "starlette_demo",
            demo_command("starlette_demo"),
            demo_env(directory / "starlette.sqlite3"),
        ) as starlette_server,
    ):
        yield {"flask_demo": flask_server, "starlette_demo": starlette_server}


@pytest.fixture(params=DEMOS)
def demo(
    request: pytest.FixtureRequest, browser: Browser, demo_servers: dict[str, Server]
) -> Server:
    return demo_servers[request.param]


@pytest.fixture(scope="module")
def other_origin() -> Iterator[OtherOrigin]:
    with OtherOrigin() as site:
        yield site


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    fresh = browser.new_context()
    fresh.set_default_timeout(TIMEOUT_MS)
    try:
        yield fresh
    finally:
        fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


# ----------------------------------------------------------------------------- helpers


class OtherOrigin:
    """A tiny site on its own 127.0.0.1 port whose page POSTs a form to `?target=`.

    Same host, other port: the same *site* as the demo (Chromium sends the SameSite=Lax
    cookie) but another *origin* (`Sec-Fetch-Site: same-site`), which the contract refuses.
    """

    PAGE = (
        "<!doctype html><title>elsewhere</title>"
        '<form id="attack" method="post" action="{target}">'
        '<button id="attack-submit" type="submit">Win a prize</button></form>'
    )

    def __init__(self) -> None:
        page = self.PAGE

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target = parse_qs(urlsplit(self.path).query).get("target", ["/"])[0]
                body = page.format(target=html.escape(target)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest's output quiet

        self.httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.httpd.daemon_threads = True
        self.port: int = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def page_url(self, target: str, *, host: str = LOOPBACK) -> str:
        return f"http://{host}:{self.port}/?{urlencode({'target': target})}"

    def __enter__(self) -> OtherOrigin:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=STOP_SECONDS)


def browser_cookie(context: BrowserContext, server: Server) -> dict[str, Any] | None:
    """The access_token cookie the browser would send to `server`, if any (at most one)."""
    cookies = [cookie for cookie in context.cookies(server.url) if cookie["name"] == COOKIE]
    assert len(cookies) <= 1, cookies
    return dict(cookies[0]) if cookies else None


def assert_contract_cookie(cookie: dict[str, Any] | None, *, set_after: float) -> None:
    """What the browser stored: host-only on 127.0.0.1, HttpOnly, Lax, for a week from when
    it was set (after `set_after`, before now)."""
    assert cookie is not None, "the browser holds no access_token cookie"
    assert cookie["httpOnly"] is True, cookie
    assert cookie["sameSite"] == "Lax", cookie
    assert cookie["secure"] is False, cookie  # COOKIE_SECURE=0 on plain http
    assert cookie["path"] == "/", cookie
    assert cookie["domain"] == "127.0.0.1", cookie
    assert int(set_after) + WEEK <= cookie["expires"] <= time.time() + WEEK + 1, cookie


def assert_sent_attributes(set_cookie: str | None) -> str:
    """The raw Set-Cookie the browser received carries exactly the contract's attributes.

    Checked on the wire too because Playwright reports a cookie without SameSite as "Lax"
    (Chromium's default), so the stored cookie alone cannot show the attribute is missing.
    """
    assert set_cookie is not None, "the response set no cookie"
    ours = [line for line in set_cookie.split("\n") if line.startswith(COOKIE + "=")]
    assert len(ours) == 1, set_cookie
    _, token, attributes = parse_set_cookie(ours[0])
    assert attributes == LOGIN_ATTRIBUTES, ours[0]
    return token


def expect_logged_in(page: Page, username: str) -> None:
    whoami = page.locator("#whoami")
    expect(whoami).to_have_attribute("data-state", "authenticated")
    expect(whoami).to_contain_text(username)
    expect(page.locator("#logout")).to_be_enabled()


def expect_anonymous(page: Page) -> None:
    whoami = page.locator("#whoami")
    expect(whoami).to_have_attribute("data-state", "anonymous")
    expect(whoami).to_have_text("Not logged in")
    expect(page.locator("#logout")).to_be_disabled()


def submit_credentials(page: Page, form: str, path: str, username: str) -> str:
    """Fill and submit `#<form>-form`; returns the Set-Cookie its fetch received."""
    page.fill(f"#{form}-username", username)
    page.fill(f"#{form}-password", PASSWORD)
    with page.expect_response(lambda response: response.url.endswith(path)) as answer:
        page.click(f"#{form}-submit")
    response = answer.value
    assert response.status in (200, 201), response.text()
    set_cookie = response.header_value("set-cookie")
    expect_logged_in(page, username)
    return set_cookie or ""


def register_through_form(page: Page, server: Server, username: str) -> str:
    page.goto(server.url + "/")
    expect_anonymous(page)
    return submit_credentials(page, "register", "/api/auth/register", username)


# ----------------------------------------------------------------------------- the cookie


def test_register_through_the_form_stores_an_httponly_lax_cookie_scripts_cannot_read(
    demo: Server, context: BrowserContext, page: Page
) -> None:
    username, before = unique_username(), time.time()
    set_cookie = register_through_form(page, demo, username)
    token = assert_sent_attributes(set_cookie)
    assert claims_of(token)["username"] == username

    cookie = browser_cookie(context, demo)
    assert_contract_cookie(cookie, set_after=before)
    assert cookie is not None
    assert cookie["value"] == token

    # document.cookie works on this page (a script cookie shows up) but never shows the token.
    page.evaluate("document.cookie = 'visible=1; path=/'")
    assert page.evaluate("document.cookie") == "visible=1"

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / f"browser-{demo.name}-logged-in.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(b"\x89PNG"), screenshot


def test_login_through_the_form_then_logout_removes_the_cookie(
    demo: Server, context: BrowserContext, page: Page
) -> None:
    username = unique_username()
    register_through_form(page, demo, username)
    page.click("#logout")
    expect_anonymous(page)
    assert browser_cookie(context, demo) is None

    before = time.time()
    set_cookie = submit_credentials(page, "login", "/api/auth/login", username)
    token = assert_sent_attributes(set_cookie)
    assert_contract_cookie(browser_cookie(context, demo), set_after=before)
    page.reload()  # a new page load sends the cookie and is recognised
    expect_logged_in(page, username)

    with page.expect_response(lambda response: response.url.endswith("/logout")) as answer:
        page.click("#logout")
    assert answer.value.status == 204
    expect_anonymous(page)
    assert browser_cookie(context, demo) is None
    page.reload()
    expect_anonymous(page)
    assert claims_of(token)["username"] == username


# ----------------------------------------------------------------------------- renewal


@pytest.mark.parametrize("how", ["page-load", "fetch"])
def test_a_near_expiry_cookie_in_the_browser_is_renewed_for_a_week(
    demo: Server, context: BrowserContext, page: Page, how: str
) -> None:
    username = unique_username()
    claims = {"_id": f"renew-{how}", "username": username}
    old = make_token(claims, issued=time.time() - 5 * DAY)  # 2 days left of 7
    old_expiry = time.time() + 2 * DAY
    if how == "fetch":  # the page is loaded before the cookie exists: only fetch sends it
        page.goto(demo.url + "/")
        expect_anonymous(page)
    context.add_cookies(
        [
            {
                "name": COOKIE,
                "value": old,
                "url": demo.url + "/",
                "expires": old_expiry,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    assert browser_cookie(context, demo) is not None

    before = time.time()
    if how == "page-load":
        page.goto(demo.url + "/")
        expect_logged_in(page, username)
    else:
        status = page.evaluate("fetch('/api/auth/check').then((response) => response.status)")
        assert status == 200

    renewed = browser_cookie(context, demo)
    assert renewed is not None
    assert renewed["value"] != old, "the near-expiry cookie was not renewed"
    assert_contract_cookie(renewed, set_after=before)
    assert renewed["expires"] > old_expiry + 4 * DAY
    fresh = claims_of(renewed["value"])
    assert (fresh["_id"], fresh["username"]) == (claims["_id"], username)
    assert fresh["exp"] - fresh["iat"] == WEEK


# ----------------------------------------------------------------------------- cross-site


@pytest.mark.parametrize(
    ("attacker_host", "sec_fetch_site", "cookie_sent"),
    [
        # Another port on the same host: same site, so the Lax cookie IS sent; only the
        # middleware's Sec-Fetch-Site check stands between this form and a logout.
        ("127.0.0.1", "same-site", True),
        # Another host name: cross-site, so Chromium withholds the Lax cookie on a POST.
        ("localhost", "cross-site", False),
    ],
    ids=["other-port-same-site", "other-host-cross-site"],
)
def test_a_form_on_another_origin_cannot_log_the_user_out(
    demo: Server,
    context: BrowserContext,
    page: Page,
    other_origin: OtherOrigin,
    attacker_host: str,
    sec_fetch_site: str,
    cookie_sent: bool,
) -> None:
    username = unique_username()
    register_through_form(page, demo, username)
    before = browser_cookie(context, demo)
    assert before is not None

    target = demo.url + "/api/auth/logout"
    page.goto(other_origin.page_url(target, host=attacker_host))
    with page.expect_response(target) as answer:
        page.click("#attack-submit")
    response = answer.value
    assert response.status == 403, response.text()
    assert response.header_value("set-cookie") is None
    sent = response.request.all_headers()
    assert sent.get("sec-fetch-site") == sec_fetch_site, sent
    assert (f"{COOKIE}=" in sent.get("cookie", "")) is cookie_sent, sent

    after = browser_cookie(context, demo)
    assert after is not None, "the cross-origin form deleted the cookie"
    assert after["value"] == before["value"]
    page.goto(demo.url + "/")
    expect_logged_in(page, username)


# ----------------------------------------------------------------------------- single sign-on


def test_logging_in_on_the_flask_demo_signs_the_browser_in_on_the_starlette_demo(
    browser: Browser, demo_servers: dict[str, Server], context: BrowserContext, page: Page
) -> None:
    flask_server, starlette_server = demo_servers["flask_demo"], demo_servers["starlette_demo"]
    assert flask_server.port != starlette_server.port
    username = unique_username()
    register_through_form(page, flask_server, username)
    flask_cookie = browser_cookie(context, flask_server)
    assert flask_cookie is not None

    # Another service on another port, its own database, the same secret: it knows us.
    page.goto(starlette_server.url + "/")
    expect_logged_in(page, username)
    starlette_cookie = browser_cookie(context, starlette_server)
    assert starlette_cookie is not None
    assert starlette_cookie["value"] == flask_cookie["value"]

    # One cookie, so logging out of one logs out of both.
    page.click("#logout")
    expect_anonymous(page)
    page.goto(flask_server.url + "/")
    expect_anonymous(page)
