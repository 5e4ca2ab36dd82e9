"""Django, natively: JWTCookieMiddleware in MIDDLEWARE, driven by Django's Client and AsyncClient.

The project is ``tests/django_project`` (startproject's apps and middleware, no database:
sessions live in a signed cookie). Most scenarios run twice: through ``Client`` (Django's
WSGI handler, the middleware in sync mode) and ``AsyncClient`` (the ASGI handler, async mode).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.test import AsyncClient, Client, override_settings

from jwtcookie import JWTCookieMiddleware as CoreMiddleware
from tests.django_project import PROJECT, SECRET, Browser, activate, awaited

COOKIE = "access_token"  # JWTCOOKIE has secure=False: no __Host- prefix
DAY = 24 * 3600
GUIDO = {"sub": "3", "username": "guido"}
MIDDLEWARE = PROJECT["MIDDLEWARE"]
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}
CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}


@pytest.fixture(autouse=True, scope="module")
def project() -> Iterator[None]:
    with activate():
        yield


def token(claims: dict[str, Any] = GUIDO, *, age: float = 0, secret: str = SECRET) -> str:
    issued = int(time.time() - age)
    return jwt.encode({**claims, "iat": issued, "exp": issued + 7 * DAY}, secret, algorithm="HS256")


def jwtcookie(**options: Any) -> dict[str, Any]:
    """A JWTCOOKIE setting: the project's, with ``options`` changed."""
    return {**PROJECT["JWTCOOKIE"], **options}


@pytest.fixture(params=["wsgi", "asgi"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def browser(mode: str) -> Browser:
    return Browser(mode)


def set_cookie(response: Any, name: str = COOKIE) -> str:
    """The Set-Cookie value the response carries for ``name``, as Django writes it."""
    return str(response.cookies[name].OutputString())


# -- the middleware -------------------------------------------------------------------------------


def test_the_middleware_takes_the_mode_of_the_handler_around_it() -> None:
    from jwtcookie.contrib.django import JWTCookieMiddleware

    async def async_view(request: Any) -> Any:
        return None

    assert JWTCookieMiddleware.sync_capable
    assert JWTCookieMiddleware.async_capable
    assert iscoroutinefunction(JWTCookieMiddleware(async_view))
    assert not iscoroutinefunction(JWTCookieMiddleware(lambda request: None))


def test_request_user_is_djangos_anonymous_user_without_a_cookie(browser: Browser) -> None:
    assert browser.get("/me").json() == {
        "authenticated": False,
        "anonymous": True,
        "username": "",
        "pk": None,
        "class": "AnonymousUser",
        "staff": False,
    }


def test_request_user_is_the_tokens_user(browser: Browser) -> None:
    assert browser.login_with(token()).get("/me").json() == {
        "authenticated": True,
        "anonymous": False,
        "username": "guido",
        "pk": "3",
        "class": "DjangoTokenUser",
        "staff": False,
    }


def test_an_async_view_reads_the_user_with_auser(browser: Browser) -> None:
    assert browser.login_with(token()).get("/async-me").json()["username"] == "guido"
    assert browser.login_with("").get("/async-me").json()["class"] == "AnonymousUser"


def test_get_auth_finds_the_requests_auth(browser: Browser) -> None:
    reply = browser.login_with(token()).get("/reason").json()
    assert reply["reason"] == "ok"
    assert reply["claims"]["username"] == "guido"


def test_djangos_login_required_sends_an_anonymous_user_to_login_url(browser: Browser) -> None:
    response = browser.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login?next=/"


def test_djangos_login_required_lets_the_token_user_in_and_the_template_shows_them(
    browser: Browser,
) -> None:
    response = browser.login_with(token()).get("/")
    assert response.status_code == 200
    assert response.content.decode().strip() == "<p>Hello guido (logged in)</p>"


def test_login_required_mixin_and_user_passes_test_take_the_token_user(browser: Browser) -> None:
    browser.login_with(token())
    assert browser.get("/mixin").content == b"mixin guido"
    assert browser.get("/guido").content == b"guido only"
    browser.login_with(token({"sub": "4", "username": "barry"}))
    assert browser.get("/guido").status_code == 302
    assert browser.login_with("").get("/mixin").status_code == 302


def test_a_token_user_has_no_permissions(browser: Browser) -> None:
    response = browser.login_with(token()).get("/permission")
    assert response.status_code == 302  # permission_required sends it to the login page


def test_the_admin_tells_a_token_user_they_are_not_staff(browser: Browser) -> None:
    """Claims never make staff: any service sharing the secret could sign them."""
    browser.login_with(token({**GUIDO, "is_staff": True, "is_superuser": True}))
    assert browser.get("/me").json()["staff"] is False
    assert browser.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    page = browser.get("/admin/login/?next=/admin/").content.decode()
    assert "You are authenticated as guido" in page


def test_a_token_user_answers_djangos_user_protocol() -> None:
    from jwtcookie.contrib.django import DjangoTokenUser

    user = DjangoTokenUser({"sub": "3", "username": "guido", "email": "g@example.org", "iat": 1})
    assert (user.pk, user.id, user.get_username(), str(user)) == ("3", "3", "guido", "guido")
    assert user.claims == {"username": "guido", "email": "g@example.org"}
    assert (user.is_active, user.is_authenticated, user.is_anonymous) == (True, True, False)
    assert (user.is_staff, user.is_superuser) == (False, False)
    same = DjangoTokenUser({"sub": "3"})
    assert user == same
    assert hash(user) == hash(same)
    assert user != DjangoTokenUser({"sub": "4", "username": "guido"})
    assert (user.groups.model.__name__, type(user.groups).__name__) == ("Group", "EmptyManager")
    assert user.user_permissions.model.__name__ == "Permission"
    assert user.get_all_permissions() == set()
    assert not user.has_perm("auth.view_user")
    assert not user.has_module_perms("auth")
    assert user.has_perms([])  # as AnonymousUser: nothing asked, nothing refused
    with pytest.raises(ValueError, match="iterable"):
        user.has_perms("auth.view_user")
    with pytest.raises(NotImplementedError):
        user.save()
    assert DjangoTokenUser({"_id": "7"}).get_username() == "7"  # no username: the id


def test_a_tampered_token_is_anonymous_and_its_cookie_deleted(browser: Browser) -> None:
    response = browser.login_with(token()[:-4] + "AAAA").get("/me")
    assert response.json()["authenticated"] is False
    assert set_cookie(response).startswith(f"{COOKIE}=;")


def test_an_old_token_is_renewed_and_the_response_kept_private(browser: Browser) -> None:
    response = browser.login_with(token(age=4 * DAY)).get("/me")
    assert set_cookie(response).startswith(f"{COOKIE}=ey")
    assert response["Cache-Control"] == "private"


def test_a_public_response_that_renews_the_cookie_is_made_private(browser: Browser) -> None:
    response = browser.login_with(token(age=4 * DAY)).get("/cacheable")
    assert response["Cache-Control"] == "max-age=60, private"
    assert "CDN-Cache-Control" not in response  # a CDN obeys these over Cache-Control
    assert "Surrogate-Control" not in response
    fresh = browser.login_with(token()).get("/cacheable")
    assert fresh["Cache-Control"] == "public, max-age=60"  # nothing added: left alone
    assert fresh["CDN-Cache-Control"] == "public, max-age=600"


def test_a_streaming_response_is_renewed_too(browser: Browser) -> None:
    response = browser.login_with(token(age=4 * DAY)).get("/stream")
    assert set_cookie(response).startswith(f"{COOKIE}=ey")


def test_a_view_that_sets_our_cookie_itself_is_left_alone(browser: Browser) -> None:
    response = browser.login_with(token(age=4 * DAY)).get("/own-cookie")
    assert response.cookies[COOKIE].value == "from-the-view"


def test_reading_the_user_makes_the_response_vary_on_cookie(browser: Browser) -> None:
    browser.login_with(token())
    assert "Cookie" in browser.get("/me")["Vary"]
    assert not browser.get("/stream").has_header("Vary")


def test_a_protected_path_is_answered_401_before_the_view(mode: str) -> None:
    with override_settings(JWTCOOKIE=jwtcookie(protected_paths=["/me"])):
        browser = Browser(mode)
        response = browser.get("/me")
        assert response.status_code == 401
        assert response.json() == {"error": "authentication required"}
        assert browser.login_with(token()).get("/me").status_code == 200


def test_repeated_cookie_headers_under_asgi_are_read_as_cookies() -> None:
    """HTTP/2 sends each cookie in its own header; Django's META joins them with ','."""
    client = AsyncClient()
    client.cookies["theme"] = "dark"
    response = async_to_sync(awaited)(client.get, "/me", headers={"cookie": f"{COOKIE}={token()}"})
    assert response.json()["username"] == "guido"


# -- login and logout -----------------------------------------------------------------------------


def test_login_sets_the_cookie_and_request_user(browser: Browser) -> None:
    response = browser.post("/login-claims", {"sub": "9", "username": "tim"}, headers=SAME_ORIGIN)
    assert response.status_code == 200
    assert response.json()["username"] == "tim"
    claims = jwt.decode(response.json()["token"], SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["username"]) == ("9", "tim")
    assert response.cookies[COOKIE].value == response.json()["token"]
    assert browser.get("/me").json()["username"] == "tim"  # the client's jar kept it


def test_logout_deletes_the_cookie_and_the_user(browser: Browser) -> None:
    response = browser.login_with(token()).post("/logout", headers=SAME_ORIGIN)
    assert response.json()["class"] == "AnonymousUser"
    assert set_cookie(response).startswith(f"{COOKIE}=;")
    assert browser.get("/me").json()["authenticated"] is False


def test_login_rotates_the_csrf_token(browser: Browser) -> None:
    before = browser.get("/form").cookies["csrftoken"].value
    response = browser.post("/login-claims", {"sub": "9", "username": "tim"}, headers=SAME_ORIGIN)
    assert response.cookies["csrftoken"].value not in ("", before)


@pytest.mark.parametrize("path", ["/login-claims", "/logout"])
def test_login_and_logout_outside_the_middleware_say_what_to_add(path: str) -> None:
    from django.core.exceptions import ImproperlyConfigured

    without = [entry for entry in MIDDLEWARE if "jwtcookie" not in entry]
    with override_settings(MIDDLEWARE=without), pytest.raises(ImproperlyConfigured) as raised:
        Client().post(path, {"sub": "9", "username": "tim"})
    assert "JWTCookieMiddleware" in str(raised.value)
    assert "MIDDLEWARE" in str(raised.value)


# -- the cookie on the wire -----------------------------------------------------------------------

WIRE_OPTIONS = {"secret": SECRET, "samesite": "None", "partitioned": True, "domain": None}


def wire_send(mode: str, method: str, path: str, cookie: str | None) -> list[str]:
    """The Set-Cookie headers a real WSGI or ASGI server would send (Django's own handlers)."""
    from django.core.asgi import get_asgi_application
    from django.core.wsgi import get_wsgi_application

    headers = {"host": "testserver", **SAME_ORIGIN}
    if cookie:
        headers["cookie"] = f"__Host-{COOKIE}={cookie}"
    if mode == "wsgi":
        transport: Any = httpx.WSGITransport(app=get_wsgi_application())
        with httpx.Client(transport=transport, base_url="https://testserver") as http:
            response = http.request(
                method, path, headers=headers, data={"sub": "9", "username": "x"}
            )
    else:

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=get_asgi_application())
            async with httpx.AsyncClient(
                transport=transport, base_url="https://testserver"
            ) as http:
                return await http.request(
                    method, path, headers=headers, data={"sub": "9", "username": "x"}
                )

        response = asyncio.run(call())
    # Django's WSGI handler writes " name=value" (Morsel.output); HTTP drops that blank.
    values = [value.strip() for value in response.headers.get_list("set-cookie")]
    return [value for value in values if value.startswith("__Host-")]


def test_the_set_cookie_on_the_wire_is_exactly_the_cores(mode: str) -> None:
    """Same attributes as the core middleware with the same options, Partitioned included."""
    core = CoreMiddleware(lambda environ, start_response: [], **WIRE_OPTIONS)
    attributes = core.set_cookie_header("TOKEN").removeprefix(f"{core.cookie_name}=TOKEN")
    with override_settings(JWTCOOKIE=WIRE_OPTIONS, SECURE_PROXY_SSL_HEADER=None):
        (login,) = wire_send(mode, "POST", "/login-claims", None)
        (renewal,) = wire_send(mode, "GET", "/me", token(age=4 * DAY))
        (deletion,) = wire_send(mode, "POST", "/logout", token())
        (bad,) = wire_send(mode, "GET", "/me", "garbage")
    for value in (login, renewal):
        name_and_token, _, rest = value.partition(";")
        assert name_and_token.startswith("__Host-access_token=ey")
        assert ";" + rest == attributes
    assert deletion == bad == core.delete_cookie_header


# -- CSRF: jwtcookie's cross-site check and Django's CsrfViewMiddleware ---------------------------


def test_a_same_origin_browser_post_passes_djangos_csrf_check_without_a_token(mode: str) -> None:
    browser = Browser(mode, enforce_csrf_checks=True)
    response = browser.post("/login-claims", {"sub": "9", "username": "tim"}, headers=SAME_ORIGIN)
    assert response.status_code == 200
    assert response.cookies[COOKIE].value.startswith("ey")


def test_a_cross_site_post_is_refused_before_django_sees_it(mode: str) -> None:
    browser = Browser(mode, enforce_csrf_checks=True).login_with(token())
    response = browser.post("/change", headers=CROSS_SITE)
    assert response.status_code == 403
    assert response.json() == {"error": "cross-origin request refused"}


def test_a_cross_site_login_is_refused_too(mode: str) -> None:
    """Login CSRF: logging the victim's browser in as the attacker."""
    browser = Browser(mode, enforce_csrf_checks=True)
    response = browser.post("/login-claims", {"sub": "6", "username": "evil"}, headers=CROSS_SITE)
    assert response.status_code == 403
    assert COOKIE not in response.cookies


def test_a_post_without_fetch_metadata_still_needs_djangos_csrf_token(mode: str) -> None:
    """No Sec-Fetch-Site (an older browser, plain http): Django's own check decides."""
    browser = Browser(mode, enforce_csrf_checks=True).login_with(token())
    refused = browser.post("/change", headers={"Origin": "http://testserver"})
    assert refused.status_code == 403
    assert b"CSRF" in refused.content  # Django's page, not ours
    csrf = browser.get("/form").content.decode()
    accepted = browser.post("/change", headers={"Origin": "http://testserver", "X-CSRFToken": csrf})
    assert accepted.content == b"changed by guido"


def test_a_trusted_origin_needs_no_csrf_token(mode: str) -> None:
    options = jwtcookie(trusted_origins=["https://app.example"])
    with override_settings(JWTCOOKIE=options):
        browser = Browser(mode, enforce_csrf_checks=True).login_with(token())
        headers = {"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example"}
        assert browser.post("/change", headers=headers).content == b"changed by guido"


def test_with_cross_site_protection_off_django_checks_every_post(mode: str) -> None:
    with override_settings(JWTCOOKIE=jwtcookie(cross_site_protection=False)):
        browser = Browser(mode, enforce_csrf_checks=True).login_with(token())
        assert browser.post("/change", headers=SAME_ORIGIN).status_code == 403
        response = browser.post("/change", headers=CROSS_SITE)
        assert response.status_code == 403
        assert b"CSRF" in response.content  # refused by Django now, not by jwtcookie


# -- hooks under both handlers --------------------------------------------------------------------


def test_a_plain_hook_runs_in_a_thread_under_asgi(mode: str) -> None:
    """A sync hook (such as one using the ORM) must never run inside the event loop."""
    options = jwtcookie(is_revoked="tests.django_project.hooks.is_revoked")
    with override_settings(JWTCOOKIE=options):
        browser = Browser(mode)
        assert browser.login_with(token()).get("/me").json()["username"] == "guido"
        revoked = browser.login_with(token({"sub": "666", "username": "x"})).get("/me")
        assert revoked.json()["authenticated"] is False


def test_an_async_hook_runs_under_wsgi_too(mode: str) -> None:
    options = jwtcookie(is_revoked="tests.django_project.hooks.async_is_revoked")
    with override_settings(JWTCOOKIE=options):
        browser = Browser(mode)
        assert browser.login_with(token()).get("/me").json()["username"] == "guido"
        revoked = browser.login_with(token({"sub": "666", "username": "x"})).get("/me")
        assert revoked.json()["authenticated"] is False


def test_logout_revokes_the_session_in_a_revocation_store(mode: str) -> None:
    """A copy of the cookie taken before the logout is refused too; under ASGI the store's
    async revoke runs, in the loop."""
    from tests.django_project.hooks import MemoryRevocations

    store = MemoryRevocations()
    with override_settings(JWTCOOKIE=jwtcookie(revocations=store)):
        browser = Browser(mode)
        login = browser.post("/login-claims", {"sub": "9", "username": "tim"}, headers=SAME_ORIGIN)
        copy = login.cookies[COOKIE].value
        browser.post("/logout", headers=SAME_ORIGIN)
        assert store.sessions == {jwt.decode(copy, SECRET, algorithms=["HS256"])["sid"]}
        assert store.calls == ["revoke_session" if mode == "wsgi" else "revoke_session_async"]
        assert browser.login_with(copy).get("/me").json()["authenticated"] is False


# -- tests: force_login ---------------------------------------------------------------------------


def test_force_login_logs_a_test_client_in_without_a_password(mode: str) -> None:
    from jwtcookie.contrib.django import force_login

    browser = Browser(mode)
    force_login(browser.client, {"sub": "5", "username": "ada"})
    assert browser.get("/me").json()["username"] == "ada"
    browser.client.logout()  # Django's own: forgets every cookie
    assert browser.get("/me").json()["authenticated"] is False


def test_force_login_signs_with_the_projects_settings() -> None:
    from jwtcookie.contrib.django import force_login

    with override_settings(JWTCOOKIE=jwtcookie(issuer="https://login.example")):
        client = Client()
        issued = force_login(client, {"sub": "5", "username": "ada"})
        assert jwt.decode(issued, SECRET, algorithms=["HS256"])["iss"] == "https://login.example"
        assert client.get("/me").json()["username"] == "ada"


def test_force_login_with_double_submit_sets_both_cookies() -> None:
    from jwtcookie.contrib.django import force_login

    with override_settings(JWTCOOKIE=jwtcookie(double_submit=True)):
        client = Client()
        force_login(client, {"sub": "5", "username": "ada"})
        csrf = client.cookies["csrf_token"].value
        assert client.post("/change").status_code == 403  # the header is missing
        assert client.post("/change", headers={"X-CSRF-Token": csrf}).content == b"changed by ada"


# -- wrapping the callable as well ----------------------------------------------------------------


def test_a_project_that_also_wraps_its_wsgi_app_sends_each_cookie_once() -> None:
    from django.core.wsgi import get_wsgi_application

    app = CoreMiddleware(get_wsgi_application(), secret=SECRET, secure=False)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as http:
        login = http.post(
            "/login-claims", data={"sub": "9", "username": "tim"}, headers=SAME_ORIGIN
        )
        assert len(login.headers.get_list("set-cookie")) == 2  # ours once, and csrftoken
        me = http.get("/me", headers={"cookie": f"{COOKIE}={token(age=4 * DAY)}"})
    assert me.json()["username"] == "guido"
    assert len([v for v in me.headers.get_list("set-cookie") if v.startswith(COOKIE)]) == 1


# -- configuration: system checks and start-up ----------------------------------------------------


def jwtcookie_messages(include_deployment_checks: bool = False) -> dict[str, Any]:
    from django.core import checks

    found = checks.run_checks(include_deployment_checks=include_deployment_checks)
    return {message.id: message for message in found if message.id.startswith("jwtcookie.")}


def test_the_project_passes_every_check() -> None:
    assert jwtcookie_messages() == {}
    with override_settings(JWTCOOKIE=jwtcookie(secure=True)):
        assert jwtcookie_messages(include_deployment_checks=True) == {}


@pytest.mark.parametrize(
    ("setting", "check_id", "in_message", "in_hint"),
    [
        ({"secure": False}, "jwtcookie.E004", "no secret given", "jwtcookie.Settings"),
        ({"secret": "short"}, "jwtcookie.E004", "openssl rand -hex 64", "docs/options.md"),
        ({"secret": SECRET, "secrt": 1}, "jwtcookie.E003", "'secrt'", "Did you mean 'secret'?"),
        ({"secret": SECRET, "samesite": "Loose"}, "jwtcookie.E004", "'Lax'", "options.md"),
        (
            {"secret": SECRET, "is_revoked": "accounts.nowhere.revoked"},
            "jwtcookie.E005",
            "cannot be imported",
            "dotted path",
        ),
        (
            {
                "secret": SECRET,
                "user_model": True,
                "load_user": "tests.django_project.hooks.load_user",
            },
            "jwtcookie.E006",
            "both user_model and load_user",
            "Keep one",
        ),
        (
            {"secret": SECRET, "user_model": "yes"},
            "jwtcookie.E004",
            "True or False",
            "get_user_model",
        ),
        ("secret", "jwtcookie.E002", "dict of options", "JWTCOOKIE = {"),
    ],
)
def test_a_wrong_setting_is_a_check_error_with_a_hint(
    setting: Any, check_id: str, in_message: str, in_hint: str
) -> None:
    with override_settings(JWTCOOKIE=setting):
        message = jwtcookie_messages()[check_id]
    assert in_message in message.msg
    assert in_hint in message.hint
    assert message.is_serious()


def test_a_missing_setting_is_a_check_error() -> None:
    with override_settings(JWTCOOKIE=None):
        assert "JWT_SECRET" in jwtcookie_messages()["jwtcookie.E001"].hint


def test_the_middleware_before_authentication_middleware_is_a_check_error() -> None:
    position = MIDDLEWARE.index("jwtcookie.contrib.django.JWTCookieMiddleware")
    reordered = [*MIDDLEWARE[:position], *MIDDLEWARE[position + 1 :]]
    reordered.insert(1, "jwtcookie.contrib.django.JWTCookieMiddleware")
    with override_settings(MIDDLEWARE=reordered):
        assert "right after" in jwtcookie_messages()["jwtcookie.E010"].hint


def test_the_middleware_without_django_contrib_auth_is_a_check_error() -> None:
    from jwtcookie.contrib.django.checks import check_configuration

    apps = [app for app in PROJECT["INSTALLED_APPS"] if app.startswith("jwtcookie")]
    with override_settings(INSTALLED_APPS=apps):  # Django's own auth checks would fail here
        (message,) = check_configuration()
    assert message.id == "jwtcookie.E011"
    assert "django.contrib.auth" in message.msg


def test_drf_authentication_without_the_middleware_is_a_check_error() -> None:
    without = [entry for entry in MIDDLEWARE if "jwtcookie" not in entry]
    with override_settings(MIDDLEWARE=without):
        assert "MIDDLEWARE" in jwtcookie_messages()["jwtcookie.E012"].hint


def test_an_insecure_cookie_is_a_deployment_warning() -> None:
    with override_settings(JWTCOOKIE=jwtcookie(secure=False)):
        assert "jwtcookie.W001" not in jwtcookie_messages()
        warning = jwtcookie_messages(include_deployment_checks=True)["jwtcookie.W001"]
    assert not warning.is_serious()
    assert "not DEBUG" in warning.hint


def test_the_middleware_refuses_to_start_with_a_wrong_setting() -> None:
    from django.core.exceptions import ImproperlyConfigured
    from django.core.wsgi import get_wsgi_application

    with (
        override_settings(JWTCOOKIE={"secret": "short"}),
        pytest.raises(ImproperlyConfigured) as raised,
    ):
        get_wsgi_application()  # what gunicorn does as it starts: it runs no system checks
    assert "openssl rand -hex 64" in str(raised.value)
