"""What the middleware writes: its own early answers (401, 403), and the ``Set-Cookie`` and
cache headers a response carries for a login, a logout, a renewal or a refused cookie."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from jwtcookie._request.caching import PRIVATE, kept_from_shared_caches
from jwtcookie._request.cookies import CookieWriter
from jwtcookie._request.diagnosis import LOGGER
from jwtcookie._request.double_submit import DoubleSubmit
from jwtcookie._request.hooks import HookCall
from jwtcookie._tokens.issuing import TokenIssuer
from jwtcookie.auth import Auth, Login, Logout, Outgoing, Renewal

if TYPE_CHECKING:
    from jwtcookie.settings import RevocationStore

Headers = Sequence[tuple[str, str]]
AUTHENTICATION_REQUIRED = "authentication required"


class EarlyResponse(NamedTuple):
    """An answer the middleware gives itself, before the app runs."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


def json_response(status: int, error: str, set_cookies: Sequence[str] = ()) -> EarlyResponse:
    """A JSON ``{"error": ...}`` answer; one that deletes a cookie is never shared-cached."""
    body = json.dumps({"error": error}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if set_cookies:
        headers += [("Cache-Control", PRIVATE), *(("Set-Cookie", v) for v in set_cookies)]
    return EarlyResponse(status, body, tuple(headers))


REFUSED_CROSS_SITE = json_response(403, "cross-origin request refused")


class CookiesAndHeaders(NamedTuple):
    """The Set-Cookie values a response gains, and its other headers: kept from shared caches
    when there is a value."""

    set_cookies: tuple[str, ...]
    headers: list[tuple[str, str]]


class LoginSigner:
    """Signs the tokens ``Auth.login`` and ``Auth.issue`` return; with double-submit on, each
    carries a fresh ``csrf`` claim, which the login's second cookie repeats."""

    __slots__ = ("_csrf", "_issuer")

    def __init__(self, issuer: TokenIssuer, csrf: DoubleSubmit | None) -> None:
        self._issuer = issuer
        self._csrf = csrf

    def sign(self, claims: Mapping[str, Any]) -> Login:
        signed = claims if self._csrf is None else self._csrf.with_claim(claims)
        token, issued = self._issuer.issue(signed)
        return Login(token, issued)


class ResponseWriter:
    """The cookies and headers a response carries, and the :class:`LoginSigner` whose
    logins they set."""

    __slots__ = (
        "_csrf",
        "_issuer",
        "_store",
        "anonymous_refused",
        "cookies",
        "delete_headers",
        "rejected_user_response",
        "signer",
    )

    def __init__(
        self,
        issuer: TokenIssuer,
        cookies: CookieWriter,
        *,
        csrf: DoubleSubmit | None,
        store: RevocationStore | None,
    ) -> None:
        self._issuer = issuer
        self._csrf = csrf
        self._store = store
        self.cookies = cookies
        self.signer = LoginSigner(issuer, csrf)
        # What logout and a bad cookie send: the same name, path and domain, expired.
        self.delete_headers: tuple[str, ...] = (cookies.delete_header,)
        if csrf is not None:
            self.delete_headers += (csrf.cookies.delete_header,)
        self.anonymous_refused = json_response(401, AUTHENTICATION_REQUIRED)
        self.rejected_user_response = json_response(
            401, AUTHENTICATION_REQUIRED, self.delete_headers
        )

    def respond(self, outgoing: Outgoing, headers: Headers) -> list[tuple[str, str]]:
        """``headers`` with the cookies ``outgoing`` asks for (and kept from shared caches)."""
        set_cookies, kept = self.cookies_and_headers(outgoing, headers)
        return [*kept, *(("Set-Cookie", value) for value in set_cookies)]

    def cookies_and_headers(self, outgoing: Outgoing, headers: Headers) -> CookiesAndHeaders:
        """The Set-Cookie values ``outgoing`` adds to a response with the app's ``headers``,
        and those headers as the response then carries them (for an adapter whose responses
        keep cookies apart, as Django's do)."""
        values = self.set_cookie_values(outgoing, headers)
        if not values:
            return CookiesAndHeaders((), list(headers))
        return CookiesAndHeaders(values, kept_from_shared_caches(headers))

    def set_cookie_values(self, outgoing: Outgoing, headers: Headers) -> tuple[str, ...]:
        """The Set-Cookie values for ``outgoing`` on a response with the app's ``headers``."""
        if outgoing is None:
            return ()
        if type(outgoing) is Login:
            return self._login_values(outgoing.token, outgoing.claims)
        if type(outgoing) is Logout:
            return self.delete_headers if outgoing.deletes_cookie else ()
        prefix = self.cookies.prefix
        if any(n.lower() == "set-cookie" and v.lstrip().startswith(prefix) for n, v in headers):
            return ()  # the app set or deleted the cookie itself: its own login/logout stands
        if type(outgoing) is Renewal:
            fresh = self._issuer.renew(outgoing.token, outgoing.verified)
            if fresh is None:
                LOGGER.info("jwtcookie: not renewed: the fresh token would be over the size limit")
                return ()
            LOGGER.debug("jwtcookie: renewed a login cookie")
            return self._login_values(fresh, outgoing.verified.claims)
        return self.delete_headers

    def rejected_user(self, auth: Auth) -> EarlyResponse:
        """What a protected path answers when an adapter's lookup finds no user for a valid
        token: 401, and the cookie deleted if it held the token
        (:attr:`Auth.deletes_when_refused`)."""
        return self.rejected_user_response if auth.deletes_when_refused else self.anonymous_refused

    def revoking(self, outgoing: Outgoing) -> HookCall | None:
        """The store's revocation to run as a logout's response starts (adapters call it)."""
        store = self._store
        if store is None or type(outgoing) is not Logout or outgoing.session_id is None:
            return None
        return HookCall(
            store.revoke_session, outgoing.session_id, getattr(store, "revoke_session_async", None)
        )

    def _login_values(self, token: str, claims: Mapping[str, Any]) -> tuple[str, ...]:
        login = self.cookies.set_header(token)
        csrf = self._csrf.set_header(claims) if self._csrf is not None else None
        return (login,) if csrf is None else (login, csrf)
