"""``"user_model": True``: request.user is the User row the token names, read from a database.

A SQLite file with every migration applied backs the module. Scenarios run through Django's
``Client`` (WSGI, sync mode) and ``AsyncClient`` (ASGI, async mode), where a sync ORM call in
the event loop would raise ``SynchronousOnlyOperation``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from django.test import Client, override_settings

from tests.django_project import PROJECT, SECRET, Browser, activate, database

COOKIE = "access_token"
DAY = 24 * 3600
PASSWORD = "correct horse battery staple"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}
USER_MODEL = {**PROJECT["JWTCOOKIE"], "user_model": True}


@pytest.fixture(autouse=True, scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    path = tmp_path_factory.mktemp("django-users") / "db.sqlite3"
    # Sessions in the database here, as startproject has them.
    with (
        activate(JWTCOOKIE=USER_MODEL, SESSION_ENGINE="django.contrib.sessions.backends.db"),
        database(path),
    ):
        yield


@pytest.fixture(autouse=True)
def users() -> Iterator[dict[str, Any]]:
    from django.contrib.auth.models import Permission, User

    made = {
        "alice": User.objects.create_user("alice", password=PASSWORD),
        "bob": User.objects.create_user("bob", password=PASSWORD, is_active=False),
        "root": User.objects.create_superuser("root", password=PASSWORD),
        "viewer": User.objects.create_user("viewer", password=PASSWORD),
    }
    made["viewer"].user_permissions.add(Permission.objects.get(codename="view_user"))
    yield made
    User.objects.all().delete()


def token_for(user: Any, *, age: float = 0) -> str:
    issued = int(time.time() - age)
    claims = {"sub": str(user.pk), "username": user.username, "iat": issued}
    return jwt.encode({**claims, "exp": issued + 7 * DAY}, SECRET, algorithm="HS256")


@pytest.fixture(params=["wsgi", "asgi"])
def browser(request: pytest.FixtureRequest) -> Browser:
    return Browser(request.param)


def test_request_user_is_the_row_the_token_names(browser: Browser, users: dict[str, Any]) -> None:
    reply = browser.login_with(token_for(users["alice"])).get("/me").json()
    assert (reply["class"], reply["username"], reply["pk"]) == (
        "User",
        "alice",
        str(users["alice"].pk),
    )


def test_an_async_view_gets_the_row_through_the_async_orm(
    browser: Browser, users: dict[str, Any]
) -> None:
    reply = browser.login_with(token_for(users["alice"])).get("/async-me").json()
    assert (reply["class"], reply["username"]) == ("User", "alice")


def test_the_row_is_read_once_and_only_when_a_view_reads_the_user(users: dict[str, Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies[COOKIE] = token_for(users["alice"])
    with CaptureQueriesContext(connection) as reading:
        client.get("/")  # login_required, then {{ user }} and {{ user.is_staff }}
    with CaptureQueriesContext(connection) as not_reading:
        client.get("/stream")
    assert [query["sql"].split(" FROM ")[1].split()[0] for query in reading] == ['"auth_user"']
    assert len(not_reading) == 0


def test_the_admin_takes_a_staff_user_logged_in_by_token(
    browser: Browser, users: dict[str, Any]
) -> None:
    response = browser.login_with(token_for(users["root"])).get("/admin/")
    assert response.status_code == 200
    assert b"Site administration" in response.content


def test_the_admin_sends_a_user_who_is_not_staff_to_its_login(
    browser: Browser, users: dict[str, Any]
) -> None:
    response = browser.login_with(token_for(users["alice"])).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_permissions_come_from_the_row(browser: Browser, users: dict[str, Any]) -> None:
    assert browser.login_with(token_for(users["viewer"])).get("/permission").content == b"permitted"
    assert browser.login_with(token_for(users["alice"])).get("/permission").status_code == 302


@pytest.mark.parametrize("who", ["inactive", "deleted"])
def test_a_token_for_an_inactive_or_deleted_user_is_anonymous_and_deleted(
    browser: Browser, users: dict[str, Any], who: str
) -> None:
    if who == "inactive":
        user = users["bob"]
    else:
        user = users["alice"]
        users["alice"].delete()
        user.pk = 999_999
    response = browser.login_with(token_for(user, age=4 * DAY)).get("/me")
    assert response.json()["class"] == "AnonymousUser"
    assert response.cookies[COOKIE].value == ""  # deleted, never renewed


@pytest.mark.parametrize("path", ["/token-only", "/async-token-only"])
def test_jwtcookies_login_required_refuses_an_inactive_user(
    browser: Browser, users: dict[str, Any], path: str
) -> None:
    """It used to ask only the token, so bob (deactivated) got in."""
    assert browser.login_with(token_for(users["alice"])).get(path).content == b"token ok"
    response = browser.login_with(token_for(users["bob"])).get(path)
    assert response.status_code == 401
    assert response.cookies[COOKIE].value == ""


def test_a_protected_path_refuses_an_inactive_users_token_before_the_view(
    browser: Browser, users: dict[str, Any]
) -> None:
    """protected_paths used to ask only the token: bob's request reached the view (200)."""
    options = {**USER_MODEL, "protected_paths": ["/reason"]}
    with override_settings(JWTCOOKIE=options):
        assert browser.login_with(token_for(users["alice"])).get("/reason").status_code == 200
        response = browser.login_with(token_for(users["bob"])).get("/reason")
        assert response.status_code == 401
        assert response.json() == {"error": "authentication required"}
        assert response.cookies[COOKIE].value == ""


def test_a_view_that_never_reads_the_user_never_renews_an_inactive_users_token(
    browser: Browser, users: dict[str, Any]
) -> None:
    """/stream reads nothing: bob's 4-day-old token used to come back renewed for a week."""
    renewed = browser.login_with(token_for(users["alice"], age=4 * DAY)).get("/stream")
    assert renewed.cookies[COOKIE].value not in ("", None)
    response = browser.login_with(token_for(users["bob"], age=4 * DAY)).get("/stream")
    assert response.cookies[COOKIE].value == ""


def test_a_bearer_token_of_an_inactive_user_never_deletes_the_login_cookie(
    browser: Browser, users: dict[str, Any]
) -> None:
    """Only a refused cookie is deleted, never on a cross-site request. Before the fix bob's
    valid Bearer token (deactivated) deleted alice's login cookie, cross-site too."""
    bob = {"Authorization": f"Bearer {token_for(users['bob'])}"}
    cross_site = {**bob, "Origin": "https://spa.example", "Sec-Fetch-Site": "cross-site"}
    options = {**USER_MODEL, "bearer": True, "protected_paths": ["/reason"]}
    with override_settings(JWTCOOKIE=options):
        browser.login_with(token_for(users["alice"]))
        for method, path, headers in [
            ("get", "/me", bob),
            ("post", "/me", cross_site),
            ("get", "/reason", bob),
            ("post", "/reason", cross_site),
        ]:
            response = getattr(browser, method)(path, headers=headers)
            assert response.status_code == (200 if path == "/me" else 401), (method, path)
            assert COOKIE not in response.cookies, (method, path)
        assert browser.get("/me").json()["username"] == "alice", "the cookie still logs in"


def test_a_sync_load_user_using_the_orm_works_under_asgi(users: dict[str, Any]) -> None:
    """The issue's report: a plain load_user raised SynchronousOnlyOperation on every request."""
    options = {**PROJECT["JWTCOOKIE"], "load_user": "tests.django_project.hooks.load_user"}
    with override_settings(JWTCOOKIE=options):
        browser = Browser("asgi").login_with(token_for(users["alice"]))
        assert browser.get("/me").json()["class"] == "User"


# -- login and logout with rows, sessions beside tokens --------------------------------------


def test_the_documented_login_view_signs_the_users_pk(
    browser: Browser, users: dict[str, Any]
) -> None:
    response = browser.post(
        "/login", {"username": "alice", "password": PASSWORD}, headers=SAME_ORIGIN
    )
    assert response.json()["class"] == "User"
    claims = jwt.decode(response.cookies[COOKIE].value, SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["username"]) == (str(users["alice"].pk), "alice")
    assert browser.get("/me").json()["username"] == "alice"


def test_login_sends_user_logged_in_so_last_login_is_kept(users: dict[str, Any]) -> None:
    Client().post("/login", {"username": "alice", "password": PASSWORD}, headers=SAME_ORIGIN)
    users["alice"].refresh_from_db()
    assert users["alice"].last_login is not None


def test_a_wrong_password_sets_no_cookie(browser: Browser) -> None:
    response = browser.post(
        "/login", {"username": "alice", "password": "nope"}, headers=SAME_ORIGIN
    )
    assert response.status_code == 401
    assert COOKIE not in response.cookies


def test_async_login_and_logout_views() -> None:
    browser = Browser("asgi")
    response = browser.post(
        "/async-login", {"username": "alice", "password": PASSWORD}, headers=SAME_ORIGIN
    )
    assert response.json()["username"] == "alice"
    assert browser.get("/async-me").json()["username"] == "alice"
    logout = browser.post("/async-logout", headers=SAME_ORIGIN)
    assert logout.cookies[COOKIE].value == ""


def test_without_a_token_request_user_is_the_sessions_user(
    browser: Browser, users: dict[str, Any]
) -> None:
    browser.client.force_login(users["alice"])  # Django's session login
    assert browser.get("/me").json()["username"] == "alice"
    assert browser.get("/async-me").json()["username"] == "alice"


def test_a_valid_token_wins_over_the_session(users: dict[str, Any]) -> None:
    client = Client()
    client.force_login(users["alice"])
    client.cookies[COOKIE] = token_for(users["root"])
    assert client.get("/me").json()["username"] == "root"


def test_logout_ends_a_session_login_too(users: dict[str, Any]) -> None:
    client = Client()
    client.force_login(users["alice"])
    client.cookies[COOKIE] = token_for(users["root"])
    response = client.post("/logout", headers=SAME_ORIGIN)
    assert response.cookies[COOKIE].value == ""
    assert client.get("/me").json()["class"] == "AnonymousUser"


def test_djangos_own_logout_deletes_the_jwt_cookie(users: dict[str, Any]) -> None:
    client = Client()
    client.cookies[COOKIE] = token_for(users["root"])
    response = client.post("/admin/logout/", headers=SAME_ORIGIN)
    assert response.status_code == 200
    assert response.cookies[COOKIE].value == ""
    assert client.get("/me").json()["class"] == "AnonymousUser"


def test_force_login_takes_a_user_row(users: dict[str, Any]) -> None:
    from jwtcookie.contrib.django import force_login

    client = Client()
    force_login(client, users["viewer"])
    assert client.get("/permission").content == b"permitted"


def test_drf_and_ninja_get_the_row(users: dict[str, Any]) -> None:
    client = Client()
    client.cookies[COOKIE] = token_for(users["alice"])
    assert client.get("/api/me").json()["class"] == "User"
    assert client.get("/ninja/me").json() == {"username": "alice", "class": "User"}


# -- a password change ends the other logins, as it ends Django's sessions -------------------


def logged_in_as_alice(mode: str) -> Browser:
    browser = Browser(mode)
    response = browser.post(
        "/login", {"username": "alice", "password": PASSWORD}, headers=SAME_ORIGIN
    )
    assert response.json()["username"] == "alice"
    return browser


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_a_password_change_ends_the_other_logins_and_keeps_the_one_that_made_it(mode: str) -> None:
    """The phone's cookie used to stay logged in after the password was changed elsewhere."""
    laptop, phone = logged_in_as_alice(mode), logged_in_as_alice(mode)
    changed = laptop.post("/password", {"password": "new", "keep": "1"}, headers=SAME_ORIGIN)
    assert changed.content == b"changed"
    assert changed.cookies[COOKIE].value.startswith("ey")  # signed for the new password
    assert laptop.get("/me").json()["username"] == "alice"
    refused = phone.get("/me")
    assert refused.json()["class"] == "AnonymousUser"
    assert refused.cookies[COOKIE].value == ""


def test_an_async_view_keeps_its_login_with_aupdate_session_auth_hash() -> None:
    laptop, phone = logged_in_as_alice("asgi"), logged_in_as_alice("asgi")
    assert (
        laptop.post("/async-password", {"password": "new"}, headers=SAME_ORIGIN).status_code == 200
    )
    assert laptop.get("/async-me").json()["username"] == "alice"
    assert phone.get("/async-me").json()["class"] == "AnonymousUser"


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_djangos_own_password_change_view_keeps_the_login_that_made_it(mode: str) -> None:
    """``PasswordChangeView`` calls Django's ``update_session_auth_hash``, not ours."""
    laptop, phone = logged_in_as_alice(mode), logged_in_as_alice(mode)
    form = {"old_password": PASSWORD, "new_password1": "new", "new_password2": "new"}
    changed = laptop.post("/django-password", form, headers=SAME_ORIGIN)
    assert (changed.status_code, changed["Location"]) == (302, "/me")
    assert laptop.get("/me").json()["username"] == "alice"
    assert phone.get("/me").json()["class"] == "AnonymousUser"


def test_a_password_change_without_update_session_auth_hash_ends_every_login() -> None:
    """As Django's sessions: the login that changed it ends too."""
    laptop = logged_in_as_alice("wsgi")
    assert laptop.post("/password", {"password": "new"}, headers=SAME_ORIGIN).status_code == 200
    assert laptop.get("/me").json()["class"] == "AnonymousUser"


def test_a_protected_path_refuses_a_login_from_before_the_password_change(
    users: dict[str, Any],
) -> None:
    with override_settings(JWTCOOKIE={**USER_MODEL, "protected_paths": ["/reason"]}):
        phone = logged_in_as_alice("wsgi")
        assert phone.get("/reason").status_code == 200
        users["alice"].set_password("new")
        users["alice"].save()
        response = phone.get("/reason")
    assert (response.status_code, response.cookies[COOKIE].value) == (401, "")


def test_an_administrator_changing_someones_password_keeps_their_own_login(
    users: dict[str, Any],
) -> None:
    alice = logged_in_as_alice("wsgi")
    admin = Browser("wsgi").login_with(token_for(users["root"]))
    form = {"username": "alice", "password": "new"}
    changed = admin.post("/someones-password", form, headers=SAME_ORIGIN)
    assert COOKIE not in changed.cookies  # root's own cookie, unchanged
    assert admin.get("/me").json()["username"] == "root"
    assert alice.get("/me").json()["class"] == "AnonymousUser"


def test_rotating_secret_key_with_a_fallback_keeps_the_logins() -> None:
    """As Django's sessions: ``SECRET_KEY_FALLBACKS`` keeps them, dropping the old key ends them."""
    from django.conf import settings

    phone = logged_in_as_alice("wsgi")
    old = settings.SECRET_KEY
    with override_settings(SECRET_KEY="rotated-" + old, SECRET_KEY_FALLBACKS=[old]):
        assert phone.get("/me").json()["username"] == "alice"
    with override_settings(SECRET_KEY="rotated-" + old, SECRET_KEY_FALLBACKS=[]):
        assert phone.get("/me").json()["class"] == "AnonymousUser"


def test_a_token_signed_for_a_user_names_the_password_only_by_a_digest(
    users: dict[str, Any],
) -> None:
    from jwtcookie.contrib.django import force_login

    claims = jwt.decode(force_login(Client(), users["alice"]), SECRET, algorithms=["HS256"])
    assert len(claims["auth_hash"]) == 32
    assert claims["auth_hash"] not in users["alice"].get_session_auth_hash()
