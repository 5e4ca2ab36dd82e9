"""Test helpers: log a test client in, or mint a token of any age, with no password round trip.

    settings = Settings(secret=secret_from_env(), secure=False)  # the app's own settings
    log_in(client, {"_id": "42", "username": "alice"}, settings)
    assert client.get("/me").status_code == 200

``client`` is Flask's test client, Starlette's or FastAPI's ``TestClient``, an
``httpx.Client``/``AsyncClient``, or Django's ``Client``/``AsyncClient``: the cookie goes in
its cookie jar, named as the middleware names it. ``mint`` gives the token itself, of any
age (``age=4 * 86400`` to test renewal) or already expired, for a ``Cookie`` header by hand.

The one pitfall: a test client talks to ``http://testserver``, and a cookie the *server*
sets with ``Secure`` (the default) is never sent back over ``http``, so logging in through
the app and then calling it again is anonymous. ``log_in`` puts the cookie in the jar
itself, which works either way; for a round trip through your login view, build the app
with ``secure=False`` in tests, or give the client an ``https://`` base URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Any

import jwt

from jwtcookie._request.double_submit import DoubleSubmit, csrf_cookie_name
from jwtcookie.middleware import JWTCookieMiddleware
from jwtcookie.settings import Settings

ALICE = {"_id": "1", "username": "alice"}


def mint(
    settings: Settings | JWTCookieMiddleware,
    claims: Mapping[str, Any] = ALICE,
    *,
    age: float = 0,
    expired: bool = False,
) -> str:
    """A token for ``claims`` as the middleware would sign it, ``age`` seconds old.

    ``expired=True`` gives one whose ``exp`` passed a second ago.
    """
    keyring = settings.keyring if isinstance(settings, JWTCookieMiddleware) else None
    settings = _settings_of(settings)
    if expired:
        age = settings.max_age + 1
    clock = settings.clock
    codec = settings.codec(clock=lambda: clock() - age, cache_size=0, keyring=keyring)
    return codec.issue(claims)[0]


def log_in(
    client: Any,
    claims: Mapping[str, Any] = ALICE,
    settings: Settings | JWTCookieMiddleware | None = None,
    *,
    age: float = 0,
) -> str:
    """Put a login cookie for ``claims`` in ``client``'s cookie jar; returns the token.

    With ``double_submit=True`` the ``csrf_token`` cookie goes in too; an unsafe request must
    still send its value in ``X-CSRF-Token``: ``csrf_value(token)``.
    """
    if settings is None:
        raise TypeError(
            "jwtcookie: log_in() needs the app's settings (a jwtcookie.Settings, or the "
            "middleware) to sign the token and name the cookie: log_in(client, claims, settings)."
        )
    source, settings = settings, _settings_of(settings)
    bound = DoubleSubmit.with_claim(claims) if settings.double_submit else claims
    token = mint(source, bound, age=age)
    _set_cookie(client, settings.cookie_name, token)
    if settings.double_submit:
        _set_cookie(client, csrf_cookie_name(settings.cookie_name), csrf_value(token))
    return token


def log_out(client: Any, settings: Settings | JWTCookieMiddleware) -> None:
    """Take the login cookie out of ``client``'s cookie jar."""
    settings = _settings_of(settings)
    jar = getattr(client, "cookies", None)
    if isinstance(jar, SimpleCookie):
        jar.pop(settings.cookie_name, None)
    elif hasattr(client, "delete_cookie"):
        client.delete_cookie(settings.cookie_name)
    elif jar is not None:
        jar.delete(settings.cookie_name)


def csrf_value(token: str) -> str:
    """The ``csrf`` claim of a token minted with ``double_submit=True`` (the header's value)."""
    value = jwt.decode(token, options={"verify_signature": False}).get("csrf")
    if not isinstance(value, str):
        raise ValueError("jwtcookie: that token carries no csrf claim (double_submit is off?).")
    return value


def _settings_of(source: Settings | JWTCookieMiddleware) -> Settings:
    if isinstance(source, Settings):
        return source
    if isinstance(source, JWTCookieMiddleware):
        return source.settings
    raise TypeError(
        f"jwtcookie: pass the app's jwtcookie.Settings or its middleware, not "
        f"{type(source).__name__}."
    )


def _set_cookie(client: Any, name: str, value: str) -> None:
    jar = getattr(client, "cookies", None)
    if isinstance(jar, SimpleCookie):
        jar[name] = value
    elif hasattr(client, "set_cookie"):  # Flask's / werkzeug's test client
        client.set_cookie(name, value)
    elif jar is not None and hasattr(jar, "set"):  # httpx.Client, Starlette/FastAPI TestClient
        jar.set(name, value)
    else:
        raise TypeError(
            f"jwtcookie: log_in() does not know how to set a cookie on a "
            f"{type(client).__name__}; send it yourself: "
            f"headers={{'Cookie': f'{name}={{mint(settings)}}'}}."
        )
