"""Configuration mistakes fail loudly at construction, with a message that says what to do."""

from __future__ import annotations

from typing import Any

import pytest

from jwtcookie import JWTCookieMiddleware
from tests.core_apps import SECRET, wsgi_app


async def asgi(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app (for hooks that only ASGI can await)."""


@pytest.mark.parametrize("secret", [None, "", b""])
def test_missing_secret_is_refused_with_how_to_make_one(secret: Any) -> None:
    with pytest.raises(ValueError, match="openssl rand -hex 64"):
        JWTCookieMiddleware(wsgi_app, secret=secret)


def test_short_secret_is_refused_with_its_length_and_how_to_make_one() -> None:
    with pytest.raises(ValueError, match=r"31 bytes.*at least 32.*openssl rand -hex 64"):
        JWTCookieMiddleware(wsgi_app, secret="s" * 31)


def test_secret_of_32_bytes_is_accepted() -> None:
    JWTCookieMiddleware(wsgi_app, secret="s" * 32)


@pytest.mark.parametrize("algorithm", ["none", "NONE", "RS256", "HS1"])
def test_algorithm_that_cannot_go_with_a_secret_is_refused(algorithm: str) -> None:
    with pytest.raises(ValueError, match="not an HMAC algorithm"):
        JWTCookieMiddleware(wsgi_app, secret=SECRET, algorithm=algorithm)


def test_samesite_none_without_secure_is_refused() -> None:
    with pytest.raises(ValueError, match="needs secure=True"):
        JWTCookieMiddleware(wsgi_app, secret=SECRET, samesite="None", secure=False)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("renew_after", 1.5, "fraction"),
        ("renew_after", 0, "fraction"),
        ("leeway", 3600, "clock skew"),
        ("max_age", 0, "positive"),
        ("max_session_age", -1, "positive"),
        ("cache_size", -1, "negative"),
        ("cookie_name", "bad name", "not a valid cookie name"),
        ("path", "app", "start with '/'"),
        ("trusted_origins", ["partner.example"], "scheme://host"),
    ],
)
def test_bad_option_values_are_refused(option: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        JWTCookieMiddleware(wsgi_app, secret=SECRET, **{option: value})


def test_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        JWTCookieMiddleware(wsgi_app, secret=SECRET, secrets="typo")


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        JWTCookieMiddleware(wsgi_app, SECRET)  # type: ignore[misc]


def test_async_hook_is_refused_on_wsgi_but_accepted_on_asgi() -> None:
    async def load_user(claims: Any) -> Any:
        return None

    with pytest.raises(TypeError, match="async def"):
        JWTCookieMiddleware(wsgi_app, secret=SECRET, load_user=load_user)
    JWTCookieMiddleware(asgi, secret=SECRET, load_user=load_user)
