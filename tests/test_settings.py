"""Every mistake a user makes with the options fails at construction, with what to do.

``Settings`` checks them; the middleware takes one built at import time, so Starlette's and
FastAPI's lazy middleware stacks fail at start-up too, not at the first request. Hooks that
answer the wrong thing fail at the request with a message that names the hook.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware

from jwtcookie import JWTCookieMiddleware, Key, Keyring, Settings
from tests.harness import SECRET, Site, bare_app, make_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient


@pytest.mark.parametrize(
    ("options", "error", "says"),
    [
        # The mistakes the first-hour review saw go through silently:
        (
            {"protected_paths": "/api"},
            TypeError,
            r"protected_paths takes a list, such as \['/api'\]",
        ),
        ({"protected_paths": ["api"]}, ValueError, r"starting with '/', such as '/api', not 'api'"),
        (
            {"trusted_origins": "http://localhost:3000"},
            TypeError,
            r"trusted_origins takes a list, such as \['https://app.example'\], not one str",
        ),
        ({"load_user": "x"}, TypeError, r"load_user is a function \(claims\) -> a user, or None"),
        ({"is_revoked": 1}, TypeError, r"is_revoked is a function \(claims\) -> True or False"),
        ({"on_error": "log"}, TypeError, r"on_error is a function \(reason\) -> None"),
        # Types the review listed as unchecked:
        ({"secure": "0"}, TypeError, r"secure is True or False, not '0'"),
        ({"bearer": 1}, TypeError, "bearer is True or False"),
        ({"max_age": "7d"}, ValueError, "max_age is a positive whole number of seconds"),
        ({"leeway": "10"}, TypeError, "leeway is a number of seconds"),
        ({"renew_after": "half"}, TypeError, "renew_after is a fraction such as 0.5"),
        ({"cache_size": 1.5}, TypeError, "cache_size is a whole number"),
        ({"clock": 0}, TypeError, "clock is a function returning the time"),
        ({"issuer": ""}, TypeError, "issuer is a non-empty str or None"),
        ({"domain": "https://example.com"}, ValueError, "is not a host name such as 'example.com'"),
        ({"cookie_name": b"access_token"}, TypeError, "cookie_name is a str"),
        ({"keys": [Key.hmac(SECRET)]}, TypeError, r"keys= takes a jwtcookie.Keyring"),
    ],
)
def test_a_mistaken_option_is_refused_with_what_to_do(
    options: dict[str, Any], error: type[Exception], says: str
) -> None:
    source = {} if "keys" in options else {"secret": SECRET}
    with pytest.raises(error, match=says):
        Settings(**source, **options)
    with pytest.raises(error, match=says):
        JWTCookieMiddleware(bare_app("wsgi"), **source, **options)


def test_settings_built_at_import_fail_before_starlette_builds_its_stack() -> None:
    """Middleware(...) options are only read at the first call (a 500 on every request then);
    a Settings object is checked where it is made."""
    with pytest.raises(ValueError, match="is 5 bytes; HS256 needs at least 32"):
        Settings(secret="short")
    settings = Settings(secret=SECRET)
    app = Starlette(middleware=[Middleware(JWTCookieMiddleware, settings=settings)])
    assert TestClient(app).get("/").status_code == 404  # built and running


def test_settings_and_options_together_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        JWTCookieMiddleware(bare_app("wsgi"), settings=Settings(secret=SECRET), secure=False)
    with pytest.raises(TypeError, match=r"settings= takes a jwtcookie\.Settings"):
        JWTCookieMiddleware(bare_app("wsgi"), settings={"secret": SECRET})  # type: ignore[arg-type]


def test_one_settings_object_serves_several_middlewares() -> None:
    settings = Settings(secret=SECRET, secure=False)
    wsgi_app, asgi_app = bare_app("wsgi"), bare_app("asgi")
    first, second = (
        JWTCookieMiddleware(wsgi_app, settings=settings),
        JWTCookieMiddleware(asgi_app, settings=settings),
    )
    assert first.cookie_name == second.cookie_name == "access_token"
    assert first.settings is second.settings is settings


def test_the_start_up_description_names_no_secret() -> None:
    described = repr(Settings(secret=SECRET, protected_paths=["/api"]))
    assert SECRET not in described
    assert "__Host-access_token" in described


# -- hooks that answer the wrong thing, and rotate_keys ---------------------------------------


def test_load_user_returning_a_dict_names_the_hook(mode: str) -> None:
    """Before, a plain dict crashed every logged-in request with an AttributeError."""
    site = Site(mode, load_user=lambda claims: {"id": claims["_id"]})
    token = site.login()
    with pytest.raises(TypeError, match=r"load_user returned a dict; return a user object"):
        site.request(cookie=f"access_token={token}")


def test_rotate_keys_checks_what_it_is_given(mode: str) -> None:
    """Before, rotate_keys("x") made every token 'invalid' instead of raising."""
    site = Site(mode)
    token = site.login()
    with pytest.raises(TypeError, match=r"rotate_keys\(\) takes a jwtcookie.Keyring, not str"):
        site.middleware.rotate_keys("x")
    assert site.request(cookie=f"access_token={token}").authenticated_as == "1", "unchanged"
    site.middleware.rotate_keys(Keyring([Key.hmac("n" * 40)]))
    assert site.request(cookie=f"access_token={token}").seen["auth"] is False


def test_a_bug_of_ours_while_decoding_is_not_taken_for_a_bad_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only what hostile input can raise makes a token 'invalid'; anything else propagates."""
    from jwtcookie._tokens import verifying

    def broken(*args: Any) -> Any:
        raise AttributeError("a programming error")

    monkeypatch.setattr(verifying, "read_token", broken)
    site = Site("wsgi")
    with pytest.raises(AttributeError, match="a programming error"):
        site.request(cookie=f"access_token={site.middleware.issue({'_id': '1'})}")


def test_an_async_hook_is_refused_on_wsgi_with_its_name() -> None:
    async def is_revoked(claims: Any) -> bool:
        return False

    with pytest.raises(TypeError, match=r"cannot await an `async def` hook \(is_revoked\)"):
        JWTCookieMiddleware(bare_app("wsgi"), secret=SECRET, is_revoked=is_revoked)
    site = Site("asgi", is_revoked=is_revoked)  # fine on ASGI: awaited
    assert site.request(cookie=f"access_token={make_token()}").authenticated_as == "1"
