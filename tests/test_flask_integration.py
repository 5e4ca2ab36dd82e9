"""Flask through jwtcookie.contrib.flask: the extension, current_user, @login_required, login
and logout, the way Flask users write them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import flask
import jwt
import pytest

import jwtcookie
from jwtcookie import JWTCookieMiddleware, Key, Keyring, Settings
from jwtcookie.contrib.flask import JWTCookie, current_user, get_auth, login_required
from tests.harness import ALICE, DAY, SECRET, Clock, claims_of, make_token, parse_set_cookie


def make_app(clock: Clock) -> flask.Flask:
    app = flask.Flask(__name__)

    @app.get("/me")
    def me() -> Any:
        return {"authenticated": current_user.is_authenticated, "name": current_user.display_name}

    @app.get("/private")
    @login_required
    def private() -> Any:
        return {"id": current_user.identity}

    @app.get("/private-with-parentheses")
    @login_required()  # Flask-JWT-Extended's habit: @jwt_required()
    def private_with_parentheses() -> Any:
        return {"id": current_user.identity}

    @app.get("/async-private")
    @login_required
    async def async_private() -> Any:
        return {"id": current_user.identity}

    @app.get("/page")
    def page() -> str:
        template = "{% if current_user.is_authenticated %}Hi {{ current_user.display_name }}"
        return flask.render_template_string(template + "{% else %}Log in{% endif %}")

    @app.post("/login")
    def login() -> Any:
        get_auth().login(ALICE)
        return {"ok": True, "now": current_user.identity}  # the new login, at once

    @app.post("/logout")
    def logout() -> Any:
        get_auth().logout()
        return "", 204

    @app.get("/reason")
    def reason() -> Any:
        return {"reason": str(get_auth().reason), "g": sorted(vars(flask.g))}

    JWTCookie(app, secret=SECRET, secure=False, clock=clock)
    return app


@pytest.fixture
def client(clock: Clock) -> flask.testing.FlaskClient:
    # The client keeps no cookie jar: each test sends the cookie it means to, visibly.
    return make_app(clock).test_client(use_cookies=False)


def cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"access_token={value}"}


def test_current_user_is_anonymous_without_a_cookie(client: flask.testing.FlaskClient) -> None:
    response = client.get("/me")
    assert response.json == {"authenticated": False, "name": ""}


def test_current_user_carries_the_token_claims(
    client: flask.testing.FlaskClient, clock: Clock
) -> None:
    response = client.get("/me", headers=cookie(make_token(issued=clock.now)))
    assert response.json == {"authenticated": True, "name": "alice"}


def test_login_required_answers_401_json_when_anonymous(
    client: flask.testing.FlaskClient,
) -> None:
    response = client.get("/private")
    assert response.status_code == 401
    assert response.json == {"error": "authentication required"}


def test_login_required_answers_401_for_a_tampered_token(
    client: flask.testing.FlaskClient, clock: Clock
) -> None:
    response = client.get("/private", headers=cookie(make_token(issued=clock.now)[:-3] + "AAA"))
    assert response.status_code == 401
    assert "access_token=;" in response.headers["Set-Cookie"]  # the bad cookie is deleted


def test_login_required_lets_a_logged_in_user_through(
    client: flask.testing.FlaskClient, clock: Clock
) -> None:
    response = client.get("/private", headers=cookie(make_token(issued=clock.now)))
    assert response.status_code == 200
    assert response.json == {"id": "1"}


def test_login_required_wraps_an_async_view(
    client: flask.testing.FlaskClient, clock: Clock
) -> None:
    assert client.get("/async-private").status_code == 401
    response = client.get("/async-private", headers=cookie(make_token(issued=clock.now)))
    assert response.json == {"id": "1"}


def test_login_from_a_view_sets_the_cookie(client: flask.testing.FlaskClient) -> None:
    response = client.post("/login")
    set_cookie = response.headers["Set-Cookie"]
    _, value, attributes = parse_set_cookie(set_cookie)
    assert claims_of(value)["username"] == "alice"
    assert "httponly" in attributes


def test_logout_from_a_view_deletes_the_cookie_and_is_not_renewed(
    client: flask.testing.FlaskClient, clock: Clock
) -> None:
    response = client.post("/logout", headers=cookie(make_token(issued=clock.now - 5 * DAY)))
    assert response.status_code == 204
    (set_cookie,) = response.headers.getlist("Set-Cookie")  # the deletion, and no renewal
    assert set_cookie.startswith("access_token=;")
    assert "Max-Age=0" in set_cookie


def test_an_old_token_is_renewed_on_a_flask_response(
    client: flask.testing.FlaskClient, clock: Clock
) -> None:
    response = client.get("/me", headers=cookie(make_token(issued=clock.now - 4 * DAY)))
    assert response.json == {"authenticated": True, "name": "alice"}
    assert response.headers["Set-Cookie"].startswith("access_token=ey")


def test_reason_is_readable_and_flask_g_stays_untouched(
    client: flask.testing.FlaskClient, clock: Clock
) -> None:
    expired = make_token(issued=clock.now - 8 * DAY)
    assert client.get("/reason", headers=cookie(expired)).json == {"reason": "expired", "g": []}


def test_get_auth_names_the_fix_when_the_app_is_not_wrapped() -> None:
    app = flask.Flask(__name__)
    with app.test_request_context("/"), pytest.raises(LookupError, match=r"app\.wsgi_app = "):
        _ = current_user.is_authenticated


def test_login_required_with_parentheses_works_as_without(
    client: flask.testing.FlaskClient, clock: Clock
) -> None:
    """Before, @login_required() raised a TypeError at import."""
    assert client.get("/private-with-parentheses").status_code == 401
    response = client.get("/private-with-parentheses", headers=cookie(make_token()))
    assert response.json == {"id": "1"}


def test_templates_see_current_user(client: flask.testing.FlaskClient) -> None:
    assert client.get("/page").text == "Log in"
    assert client.get("/page", headers=cookie(make_token())).text == "Hi alice"


def test_the_rest_of_the_request_sees_a_login_at_once(client: flask.testing.FlaskClient) -> None:
    """Before, current_user stayed anonymous until the next request."""
    assert client.post("/login").json == {"ok": True, "now": "1"}


def test_one_get_auth_for_the_request_with_or_without_it(clock: Clock) -> None:
    app = make_app(clock)
    seen: dict[str, Any] = {}

    @app.get("/same")
    def same() -> Any:
        seen["ok"] = get_auth() is get_auth(flask.request) is jwtcookie.get_auth(flask.request)
        return {}

    app.test_client(use_cookies=False).get("/same", headers=cookie(make_token()))
    assert seen == {"ok": True}


def test_the_extension_checks_its_options_and_is_found_on_the_app() -> None:
    with pytest.raises(TypeError, match="protected_paths takes a list"):
        JWTCookie(flask.Flask(__name__), secret=SECRET, protected_paths="/api")
    app = flask.Flask(__name__)
    extension = JWTCookie(settings=Settings(secret=SECRET))
    extension.init_app(app)  # the application-factory spelling
    assert app.extensions["jwtcookie"] is extension
    assert isinstance(app.wsgi_app, JWTCookieMiddleware)
    token = extension.issue({"sub": "api-client"})
    assert claims_of(token)["sub"] == "api-client"

    assert extension.middleware is not None
    new_secret = "rotated-" + "r" * 40
    extension.middleware.rotate_keys(Keyring([Key.hmac(new_secret, kid="next")]))
    rotated = extension.issue({"sub": "api-client"})  # it used to sign with the old key
    assert jwt.decode(rotated, new_secret, algorithms=["HS256"])["sub"] == "api-client"


def flask_jwt_extended_token_seen_by_jwtcookie() -> Any:
    """A token made by Flask-JWT-Extended with our secret, read back through jwtcookie."""
    from flask_jwt_extended import JWTManager, create_access_token

    old_app = flask.Flask(__name__)
    old_app.config["JWT_SECRET_KEY"] = SECRET
    JWTManager(old_app)
    with old_app.app_context():
        old_token = create_access_token(identity="1", additional_claims={"username": "alice"})

    app = flask.Flask(__name__)

    @app.get("/me")
    def me() -> Any:
        auth = get_auth()
        return {"sub": auth.claims["sub"], "name": auth.user.display_name, "id": auth.user.identity}

    app.wsgi_app = JWTCookieMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, secret=SECRET, secure=False, cookie_name="access_token_cookie"
    )
    client = app.test_client(use_cookies=False)
    response = client.get("/me", headers={"Cookie": f"access_token_cookie={old_token}"})
    return response.json


def test_a_flask_jwt_extended_access_token_is_accepted_during_a_migration() -> None:
    """docs/migrating-from-flask-jwt-extended.md: same secret and cookie name, no logout."""
    seen = flask_jwt_extended_token_seen_by_jwtcookie()
    assert seen["sub"] == "1"
    assert seen["name"] == "alice"


def test_the_identity_of_a_flask_jwt_extended_token_is_its_sub() -> None:
    assert flask_jwt_extended_token_seen_by_jwtcookie()["id"] == "1"


def test_the_documented_setup_passes_mypy_strict(tmp_path: Path) -> None:
    """Before, the documented `app.wsgi_app = JWTCookieMiddleware(...)` failed mypy
    (method-assign); docs/flask.md's first snippet, checked as a user's module."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "flask.md").read_text()
    snippet = page.split("```python\n", 1)[1].split("```", 1)[0]
    module = tmp_path / "flask_app.py"
    module.write_text(snippet)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", str(module)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
