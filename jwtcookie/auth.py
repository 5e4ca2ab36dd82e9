"""What one request knows about its login, and what its response must do about it.

The middleware puts one :class:`Auth` in every request it lets through: ``scope["auth"]``
on ASGI (where Starlette's ``request.auth`` and ``@requires`` read its ``scopes``) and
``environ["jwtcookie.auth"]`` on WSGI, next to the user (``scope["user"]``,
``environ["jwtcookie.user"]``). It is data: the user, the claims and why, what the app asked
for (``login``, ``logout``) and what the middleware planned (a renewal, deleting a bad
cookie). The middleware reads that once, when the response starts, and writes the cookies.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from jwtcookie.users import ANONYMOUS, EMPTY_CLAIMS, Reason, TokenUser, scopes_for

if TYPE_CHECKING:  # a type only: the request path that builds an Auth sits above this module
    from jwtcookie._request.responses import LoginSigner

# ASGI: Starlette's names, so request.user and @requires work; WSGI: PEP 3333's namespacing.
SCOPE_USER = "user"
SCOPE_AUTH = "auth"
ENVIRON_USER = "jwtcookie.user"
ENVIRON_AUTH = "jwtcookie.auth"
LOGGER = logging.getLogger("jwtcookie")  # never given a token or a claim's value


class Login(NamedTuple):
    """A token ``login()`` signed, with the claims it carries: the response sets it."""

    token: str
    claims: Mapping[str, Any]


class Logout(NamedTuple):
    """``logout()`` was called: the response deletes the cookie (and a store revokes this)."""

    session_id: str | None
    deletes_cookie: bool = True  # False: a cross-site Bearer logout revokes, changes no cookie


class Renewal(NamedTuple):
    """The token was valid but past its renewal time: the response carries a fresh one."""

    token: str
    verified: Any


class BadCookie(NamedTuple):
    """The cookie held a refused token: the response deletes it."""


Outgoing = Login | Logout | Renewal | BadCookie | None
BAD_COOKIE = BadCookie()

SENT = (
    "after the response headers were sent; call it before returning the response (or before "
    "start_response)"
)
ON_A_WEBSOCKET = (
    "on a WebSocket, which cannot set or delete a cookie; log in and out with an HTTP request"
)


class Auth:
    """One request's login: the user, the claims, why, and ``login()``/``logout()``."""

    __slots__ = (
        "_bearer",
        "_claims",
        "_closed_because",
        "_cross_site",
        "_outgoing",
        "_reason",
        "_scopes",
        "_session_to_revoke_on_logout",
        "_signer",
        "_token_refused",
        "_user",
    )

    def __init__(
        self,
        signer: LoginSigner,
        user: Any = ANONYMOUS,
        claims: Mapping[str, Any] = EMPTY_CLAIMS,
        reason: Reason = Reason.MISSING,
        scopes: tuple[str, ...] = (),
        token_refused: bool = False,
        planned: Outgoing = None,
        cross_site: bool = False,
        session_to_revoke_on_logout: str | None = None,
        bearer: bool = False,
    ) -> None:
        self._signer = signer
        self._user = user
        self._claims = claims
        self._reason = reason
        self._scopes = scopes
        self._token_refused = token_refused
        self._outgoing = planned
        self._cross_site = cross_site  # an unsafe request from another site: no cookie changes
        self._bearer = bearer  # the token came from the Authorization header, not the cookie
        # The sid of a token that verified but that the revocation store could not judge: the
        # request is anonymous, yet logout() must still revoke that session.
        self._session_to_revoke_on_logout = session_to_revoke_on_logout
        self._closed_because: str | None = None

    @property
    def user(self) -> Any:
        """A :class:`TokenUser` (or what ``load_user`` returned), or the anonymous user."""
        return self._user

    @property
    def claims(self) -> Mapping[str, Any]:
        """The verified token's claims, registered ones included; empty when anonymous."""
        return self._claims

    @property
    def reason(self) -> Reason:
        return self._reason

    @property
    def is_authenticated(self) -> bool:
        return bool(self._user.is_authenticated)

    @property
    def session_id(self) -> str | None:
        """The login session (``sid``) every renewal carries over: revoke this at logout."""
        sid = self._claims.get("sid")
        return sid if isinstance(sid, str) else None

    @property
    def scopes(self) -> tuple[str, ...]:
        """Starlette's ``request.auth.scopes``: ``("authenticated", ...)``, or empty."""
        return self._scopes

    @property
    def token_refused(self) -> bool:
        """Whether the request presented a token that was refused (``reason`` says why)."""
        return self._token_refused

    def login(self, claims: Mapping[str, Any]) -> str:
        """Sign a fresh token for ``claims``; the response sets it as the cookie.

        From here on this request is the new login: ``user``, ``claims`` and ``session_id``
        describe it. Returns the token (for a client that wants it in the body too). On an
        unsafe request from another site (let through as it carried no cookie of ours), the
        response sets no cookie: no cross-site page can log a browser in.
        """
        self._check_open("login")
        login = self._signer.sign(claims)
        self._outgoing = login
        self._user = TokenUser(login.claims)
        self._claims = login.claims
        self._reason = Reason.OK
        self._scopes = scopes_for(login.claims)
        return login.token

    def issue(self, claims: Mapping[str, Any]) -> str:
        """A token for ``claims`` for a client to keep itself (a bearer token): no cookie set,
        and this request's login is unchanged. Browsers use :meth:`login`."""
        return self._signer.sign(claims).token

    def logout(self) -> None:
        """Make the response delete the cookie; from here on this request is anonymous.

        With a revocation store (``revocations=``), the session is revoked everywhere too, so
        a copy of the cookie is refused as well. On an unsafe request from another site no
        cookie is deleted (no cross-site page can log a browser out); the session of a token
        sent in the ``Authorization`` header, which no other site's page can send, is revoked.
        """
        self._check_open("logout")
        self._outgoing = Logout(self.session_id or self._session_to_revoke_on_logout)
        self._session_to_revoke_on_logout = None
        self._user = ANONYMOUS
        self._claims = EMPTY_CLAIMS
        self._reason = Reason.MISSING
        self._scopes = ()

    def take_outgoing(self, because: str = SENT) -> Outgoing:
        """What the response must carry; called by the middleware as the response starts
        (or before a WebSocket app runs: it has no response to carry a cookie)."""
        self._closed_because = because
        outgoing = self._outgoing
        if self._cross_site and outgoing is not None:
            if self._bearer and type(outgoing) is Logout:
                # The client's own logout: another site's page cannot send its header.
                return Logout(outgoing.session_id, deletes_cookie=False)
            # Login CSRF, or logging a victim out: no cross-site request changes our cookie.
            action = "login" if type(outgoing) is Login else "logout"
            LOGGER.info(
                "jwtcookie: %s() on a cross-site request sets no cookie; if that page is your "
                "own front end, list its origin in trusted_origins.",
                action,
            )
            return None
        return outgoing

    @property
    def deletes_when_refused(self) -> bool:
        """Whether refusing this request's token deletes the cookie: only a token that came
        from the cookie, and never on a cross-site request."""
        return not self._bearer and not self._cross_site

    def refusing_the_user(self, outgoing: Outgoing) -> Outgoing:
        """What the response carries once an adapter found the token's user gone
        (deleted or deactivated), as ``load_user`` answering None would: the cookie is deleted
        when :attr:`deletes_when_refused`, and never renewed."""
        if type(outgoing) is Login or type(outgoing) is Logout:
            return outgoing
        return BAD_COOKIE if self.deletes_when_refused else None

    def _check_open(self, action: str) -> None:
        if self._closed_because is not None:
            raise RuntimeError(f"jwtcookie: {action}() was called {self._closed_because}.")

    def __repr__(self) -> str:
        return f"Auth(user={self._user!r}, reason={self._reason.value!r})"
