"""Configuration mistakes fail loudly at construction, with a message that says what to do.

The secret, key and algorithm checks are in test_keys.py, the cookie options in
test_cookie_options.py, the async hooks in test_revocation.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from jwtcookie import JWTCookieMiddleware
from tests.harness import SECRET, Site, bare_app, make_token


def test_short_secret_is_refused_with_its_length_and_how_to_make_one() -> None:
    with pytest.raises(ValueError, match=r"31 bytes.*at least 32.*openssl rand -hex 64"):
        JWTCookieMiddleware(bare_app("wsgi"), secret="s" * 31)


def test_secret_of_32_bytes_is_accepted(mode: str) -> None:
    site = Site(mode, secret="s" * 32)
    assert site.request(cookie=f"access_token={make_token(key='s' * 32)}").authenticated_as == "1"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("renew_after", 1.5, "fraction"),
        ("renew_after", 0, "fraction"),
        ("leeway", 3600, "clock skew"),
        ("max_age", 0, "positive"),
        ("max_session_age", 0, "max_session_age is a positive"),
        ("max_session_age", -1, "max_session_age is a positive"),
        ("cache_size", -1, "negative"),
        ("trusted_origins", ["partner.example"], "scheme://host"),
    ],
)
def test_bad_option_values_are_refused(option: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        JWTCookieMiddleware(bare_app("wsgi"), secret=SECRET, **{option: value})


def test_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        JWTCookieMiddleware(bare_app("wsgi"), secret=SECRET, secrets="typo")


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        JWTCookieMiddleware(bare_app("wsgi"), SECRET)  # type: ignore[misc]
