"""Opt-in double-submit token, for deployments that want more than the Origin check.

Login sets a second cookie, ``csrf_token``, readable by the page's scripts (not HttpOnly,
otherwise the same attributes), holding a random value that is also signed into the login
token as its ``csrf`` claim. An unsafe request that carries the login cookie must echo the
value in an ``X-CSRF-Token`` header: a cross-site page can make the browser send cookies but
can neither read them nor add a custom header. Because the value is bound to the signed
token (OWASP's "signed double-submit cookie"), a ``csrf_token`` cookie planted by a sibling
subdomain does not match; a ``__Host-`` login cookie also gives the csrf cookie that prefix. A
login cookie whose token carries no ``csrf`` claim (issued elsewhere, or before the option was
on) binds nothing, so it counts as no login at all and is deleted.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Any

from jwtcookie._request.cookies import (
    MAX_DUPLICATE_COOKIES,
    CookieWriter,
    cookie_prefix,
    find_cookie,
)

CLAIM = "csrf"
HEADER = "X-CSRF-Token"
COOKIE = "csrf_token"
_VALUE = re.compile(r"[A-Za-z0-9_-]{16,128}")  # what we issue; anything else is not echoed


class DoubleSubmit:
    """The csrf cookie's Set-Cookie values and the check of an unsafe request."""

    __slots__ = ("cookie_name", "cookies")

    def __init__(self, login_cookies: CookieWriter) -> None:
        self.cookie_name = csrf_cookie_name(login_cookies.name)
        self.cookies = login_cookies.sibling(self.cookie_name, httponly=False)

    @staticmethod
    def with_claim(claims: Mapping[str, Any]) -> dict[str, Any]:
        """The login claims plus a fresh random ``csrf`` value."""
        return {**claims, CLAIM: secrets.token_urlsafe(32)}

    def refusal(
        self, cookie_header: str | None, sent: str | None, cookie_claims: Mapping[str, Any]
    ) -> str:
        """Why an unsafe request is refused ('' when it may go on).

        ``cookie_claims`` are the claims of the login the cookie carries (empty when the
        request is anonymous or its token came in a header): only such a login can be
        borrowed by a forged request, and the policy accepts it only with a ``csrf`` claim.
        """
        if not cookie_claims:
            return ""
        if not sent:
            return f"missing {HEADER} header"
        values = find_cookie(cookie_header or "", self.cookie_name)
        if not any(values):
            return f"missing {self.cookie_name} cookie"
        bound = cookie_claims[CLAIM]
        read = values[:MAX_DUPLICATE_COOKIES]
        if _equal(sent, bound) and any(_equal(sent, value) for value in read):
            return ""
        return f"{HEADER} does not match"

    @staticmethod
    def binds(claims: Mapping[str, Any]) -> bool:
        """Whether a login cookie's token carries the ``csrf`` claim the check needs."""
        return isinstance(claims.get(CLAIM), str)

    def set_header(self, claims: Mapping[str, Any]) -> str | None:
        """The csrf Set-Cookie going out with a login token that carries ``claims``."""
        value = claims.get(CLAIM)
        if not isinstance(value, str) or not _VALUE.fullmatch(value):
            return None  # e.g. another service's claim that could break the header
        return self.cookies.set_header(value)


def csrf_cookie_name(login_cookie: str) -> str:
    """``csrf_token``, with the login cookie's ``__Host-``/``__Secure-`` prefix."""
    return cookie_prefix(login_cookie) + COOKIE


def _equal(one: str, other: str) -> bool:
    """Constant-time comparison that also takes the non-ASCII text a header may carry."""
    return hmac.compare_digest(
        one.encode("utf-8", "surrogatepass"), other.encode("utf-8", "surrogatepass")
    )
