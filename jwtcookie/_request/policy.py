"""The one place that decides what happens to a request, in the order security needs.

Every adapter turns its request into a :class:`RequestView` and asks :meth:`Policy.admit`,
which answers with one of three things:

- a :class:`EarlyResponse`: a cross-site unsafe request (403), a double-submit mismatch (403), an
  anonymous request to a protected path (401); the adapter writes it and stops;
- the request's :class:`Auth`, to put in the request before the app runs;
- a round of the app's hooks, when they have a say about the token: ``is_revoked``, then
  ``user_not_before``, then ``load_user`` (never for a revoked token), then ``on_error``
  about a refused one. It is a generator that yields each :class:`HookCall` and returns the
  refusal or the :class:`Auth`; :mod:`jwtcookie._request.hooks` drives it.

As the response starts, :meth:`Policy.respond` gives the ``Set-Cookie`` values for what the
app asked (``login``, ``logout``) or the middleware planned (a renewal, deleting a bad
cookie), and keeps a response that carries one out of shared caches.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from jwtcookie._request.caching import PRIVATE, kept_from_shared_caches
from jwtcookie._request.cookies import MAX_DUPLICATE_COOKIES, CookieWriter, find_cookie
from jwtcookie._request.double_submit import DoubleSubmit
from jwtcookie._request.hooks import HookCall, HookRound
from jwtcookie._request.origin import OriginGuard, normalise_origin
from jwtcookie._request.view import SAFE_METHODS, RequestView
from jwtcookie._tokens.codec import Diagnosis, Verified
from jwtcookie.auth import BAD_COOKIE, Auth, Login, Logout, Outgoing, Renewal
from jwtcookie.revocations import Standing
from jwtcookie.users import ANONYMOUS, EMPTY_CLAIMS, Reason

if TYPE_CHECKING:  # the policy is built from the options; the options never need the policy
    from jwtcookie.settings import Hook, Settings

LOGGER = logging.getLogger("jwtcookie")  # never given a token, a secret or a claim's value
Headers = Sequence[tuple[str, str]]


class EarlyResponse(NamedTuple):
    """An answer the middleware gives itself, before the app runs."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


class TokenCheck(NamedTuple):
    """The token a request presented, where it came from, and what verification said."""

    verified: Verified | None
    reason: Reason
    token: str | None  # None: no token, or duplicates that cannot be told apart
    from_cookie: bool
    kid: str | None  # a key id the keyring can fetch, not yet known: fetch, then check again
    renewable: bool  # False when the store judged it from a copy it is not following
    unjudged_session: str | None  # the sid of a verified token the store could not judge


# Built on every request: tuple.__new__ skips the generated, Python-level __new__.
_new_token_check = cast(
    "Callable[[tuple[Any, ...]], TokenCheck]", partial(tuple.__new__, TokenCheck)
)


NO_TOKEN = TokenCheck(None, Reason.MISSING, None, True, None, True, None)
# Duplicates that cannot be told apart: anonymous, with no token to blame, so the response
# deletes nothing (deleting would log the real user out for a planted cookie).
AMBIGUOUS = TokenCheck(None, Reason.INVALID, None, True, None, True, None)


def json_response(status: int, error: str, set_cookies: Sequence[str] = ()) -> EarlyResponse:
    """A JSON ``{"error": ...}`` answer; one that deletes a cookie is never shared-cached."""
    body = json.dumps({"error": error}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if set_cookies:
        headers += [("Cache-Control", PRIVATE), *(("Set-Cookie", v) for v in set_cookies)]
    return EarlyResponse(status, body, tuple(headers))


REFUSED_CROSS_SITE = json_response(403, "cross-origin request refused")
AUTHENTICATION_REQUIRED = "authentication required"


class Policy:
    """Everything the middleware decides, built once from :class:`Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.codec = settings.codec()
        self.cookies = CookieWriter(
            settings.cookie_name,
            max_age=settings.max_age,
            path=settings.path,
            domain=settings.domain,
            secure=settings.secure,
            httponly=True,
            samesite=settings.samesite,
            partitioned=settings.partitioned,
        )
        self._cookie_name = settings.cookie_name
        self._guard = OriginGuard(settings.trusted_origins)
        self._guarded = settings.cross_site_protection
        self._csrf = DoubleSubmit(self.cookies) if settings.double_submit else None
        self._bearer = settings.bearer
        self._protected = settings.protected_paths
        # A protected path, and what a path below one starts with (a "/" boundary).
        self._protected_exact = frozenset(self._protected)
        self._protected_below = tuple(prefix.rstrip("/") + "/" for prefix in self._protected)
        self._is_revoked: Hook | None = settings.is_revoked
        self._user_not_before: Hook | None = settings.user_not_before
        self._load_user: Hook | None = settings.load_user
        self._on_error = settings.on_error
        self._store = settings.revocations
        self._token_hooks = bool(self._is_revoked or self._user_not_before or self._load_user)
        # What logout and a bad cookie send: the same name, path and domain, expired.
        self.delete_headers: tuple[str, ...] = (self.cookies.delete_header,)
        if self._csrf is not None:
            self.delete_headers += (self._csrf.cookies.delete_header,)
        self._refused_anonymous = json_response(401, AUTHENTICATION_REQUIRED)
        self._refused_deleting = json_response(401, AUTHENTICATION_REQUIRED, self.delete_headers)
        LOGGER.info("jwtcookie: %s", settings.describe())

    # -- admission -----------------------------------------------------------------------------

    def admit(self, request: RequestView) -> EarlyResponse | Auth | HookRound[EarlyResponse | Auth]:
        """A refusal, the request's :class:`Auth`, or the hooks' round (module docstring)."""
        if (
            self._guarded
            and (request.websocket or request.method not in SAFE_METHODS)  # request.unsafe
            and not self._guard.allows(
                fetch_site=request.fetch_site, origin=request.origin, host=request.host
            )
        ):
            if LOGGER.isEnabledFor(logging.INFO):
                self._log_cross_site(request)
            return REFUSED_CROSS_SITE
        token_check = self._read_token(request)
        if token_check.verified is not None:
            if self._token_hooks:
                return self._hook_round(request, token_check)
        elif token_check.kid is not None or (self._on_error is not None and token_check.token):
            return self._hook_round(request, token_check)  # a key to fetch, or on_error to tell
        return self._conclude(request, token_check)

    def csrf_already_checked(self, request: RequestView) -> bool:
        """Whether the browser itself says an unsafe request comes from this very origin
        (``Sec-Fetch-Site: same-origin``) or from one of ``trusted_origins``: a framework's own
        CSRF token check has nothing to add to that. False with cross-site protection off."""
        if not self._guarded or not request.unsafe:
            return False
        return request.fetch_site == "same-origin" or self._guard.trusts(request.origin)

    def reads_bearer(self, request: RequestView) -> bool:
        """Whether the token is taken from an ``Authorization: Bearer`` header, not the cookie
        (enabled by ``bearer=True``; a header with a token wins). A bearer token is no ambient
        credential, so it needs no CSRF proof."""
        return bool(
            self._bearer
            and request.authorization
            and _bearer_token(request.authorization) is not None
        )

    def _read_token(self, request: RequestView) -> TokenCheck:
        """The token: an ``Authorization: Bearer`` header wins over the cookie, if enabled."""
        if self._bearer and request.authorization:
            token = _bearer_token(request.authorization)
            if token is not None:
                return self._check_token(token, from_cookie=False, may_fetch=True)
        if request.cookie is None:
            return NO_TOKEN
        values = find_cookie(request.cookie, self._cookie_name)
        if not values:
            return NO_TOKEN
        if len(values) == 1:
            return self._check_token(values[0], from_cookie=True, may_fetch=True)
        if len(values) > MAX_DUPLICATE_COOKIES:
            return AMBIGUOUS  # unread ones could hide the user's token behind planted ones
        return self._check_duplicates(values)

    def _check_token(self, token: str, *, from_cookie: bool, may_fetch: bool = False) -> TokenCheck:
        outcome = self.codec.verify(token)
        if not isinstance(outcome, Verified):
            kid = (
                self.codec.fetchable_kid(token) if may_fetch and outcome is Reason.INVALID else None
            )
            if kid is not None:  # the issuer may have a new key: fetch it, then check again
                return _new_token_check(
                    (None, Reason.UNAVAILABLE, token, from_cookie, kid, True, None)
                )
            return _new_token_check((None, outcome, token, from_cookie, None, True, None))
        if from_cookie and self._csrf is not None and not self._csrf.binds(outcome.claims):
            # A login cookie binding no csrf value (issued elsewhere, or before double_submit
            # was on) cannot be told from a forged request's: it counts as no login.
            return _new_token_check((None, Reason.INVALID, token, from_cookie, None, True, None))
        store = self._store
        if store is None:
            return _new_token_check((outcome, Reason.OK, token, from_cookie, None, True, None))
        # Local lookups: a store keeps no network on the request path.
        standing = store.standing
        if standing is Standing.CANNOT_ANSWER:  # a logout still revokes the verified session
            sid = outcome.claims.get("sid")
            sid = sid if isinstance(sid, str) else None
            return _new_token_check(
                (None, Reason.UNAVAILABLE, token, from_cookie, None, False, sid)
            )
        if store.is_revoked(outcome.claims) or _issued_before(
            outcome, store.user_not_before(outcome.claims)
        ):
            return _new_token_check((None, Reason.REVOKED, token, from_cookie, None, False, None))
        renewable = standing is Standing.CURRENT
        return _new_token_check((outcome, Reason.OK, token, from_cookie, None, renewable, None))

    def _check_duplicates(self, values: list[str]) -> TokenCheck:
        """The first valid one counts; valid ones naming different users cancel out.

        With none valid, one that cannot be judged yet (a stale store, a key the issuer may
        publish) is the answer, so the cookie is kept: the user's real one may be that one,
        beside a planted duplicate. Otherwise the last refused one, deleted.
        """
        first: TokenCheck | None = None
        refused: TokenCheck | None = None
        for value in values:
            checked = self._check_token(value, from_cookie=True, may_fetch=True)
            if checked.verified is None:
                if refused is None or refused.reason is not Reason.UNAVAILABLE:
                    refused = checked
            elif first is None:
                first = checked
            elif first.verified is not None and not _same_user(first.verified, checked.verified):
                return AMBIGUOUS
        return first or refused or AMBIGUOUS  # (AMBIGUOUS only for no values at all)

    # -- the hooks' say ----------------------------------------------------------------------

    def _hook_round(
        self, request: RequestView, token_check: TokenCheck
    ) -> HookRound[EarlyResponse | Auth]:
        """The order: a key to fetch first; then revoked, not-before, load_user; on_error last."""
        refused: Reason | None = None
        cause = ""  # which hook refused the token, for the log
        user: Any = None
        keyring = self.codec.state.fetching
        # Checked again only once the keyring knows the kid: a kid still unknown (the issuer
        # unreachable, or fetched too recently) stays UNAVAILABLE, cookie kept.
        if (
            token_check.kid is not None
            and token_check.token is not None
            and keyring is not None
            and (yield HookCall(keyring.refresh_for, token_check.kid, keyring.refresh_for_async))
        ):
            token_check = self._check_token(token_check.token, from_cookie=token_check.from_cookie)
        verified = token_check.verified
        if verified is not None:
            claims = verified.claims
            if self._is_revoked is not None and (yield HookCall(self._is_revoked, claims)):
                refused, cause = Reason.REVOKED, "is_revoked() answered true"
            elif self._user_not_before is not None and _issued_before(
                verified, (yield HookCall(self._user_not_before, claims))
            ):
                refused = Reason.REVOKED
                cause = "it was issued before the time user_not_before() answered"
            elif self._load_user is not None:
                user = yield HookCall(self._load_user, claims)
                if user is None:
                    refused, cause = Reason.REJECTED, "load_user() answered None"
                else:
                    user = _checked_user(user)
        reason = refused or token_check.reason
        if self._on_error is not None and token_check.token is not None and reason is not Reason.OK:
            yield HookCall(self._on_error, reason)
        return self._conclude(request, token_check, refused, cause, user)

    # -- the request's Auth, or a refusal -------------------------------------------------------

    def _conclude(
        self,
        request: RequestView,
        token_check: TokenCheck,
        refused: Reason | None = None,
        cause: str = "",
        user: Any = None,
    ) -> EarlyResponse | Auth:
        """The request's :class:`Auth`, or a refusal; ``refused``, ``cause`` and ``user`` are
        what the hooks said, when they had a say."""
        verified = token_check.verified
        deleting = False
        if verified is not None and refused is None:
            token = token_check.token if token_check.from_cookie else None
            renew = (
                token_check.renewable and token is not None and self.codec.should_renew(verified)
            )
            auth = Auth(
                self.sign_in,
                verified.user if user is None else user,
                verified.claims,
                Reason.OK,
                verified.scopes,
                False,
                Renewal(token, verified) if renew and token is not None else None,
            )
        else:
            if token_check.reason is not Reason.MISSING and LOGGER.isEnabledFor(logging.INFO):
                self._log_refused(token_check, refused, cause)
            deleting = _deletes(token_check)  # a hook's refusal deletes too: it is for good
            auth = Auth(
                self.sign_in,
                ANONYMOUS,
                EMPTY_CLAIMS,
                refused or token_check.reason,
                (),
                token_check.token is not None,  # a token came, and was refused
                BAD_COOKIE if deleting else None,
                token_check.unjudged_session,
            )
        if self._csrf is not None and request.unsafe and not request.websocket:
            cookie_claims = auth.claims if token_check.from_cookie else EMPTY_CLAIMS
            problem = self._csrf.refusal(request.cookie, request.csrf_token, cookie_claims)
            if problem:
                return json_response(403, problem)
        if self._protected and not auth.is_authenticated and self._protects(request.path):
            LOGGER.debug("jwtcookie: 401 for an anonymous request to %r", request.path)
            return self._refused_deleting if deleting else self._refused_anonymous
        return auth

    def _log_refused(self, token_check: TokenCheck, refused: Reason | None, cause: str) -> None:
        """One INFO line: where the token came from, the reason, and its precise cause."""
        source = "cookie" if token_check.from_cookie else "Authorization header"
        reason = token_check.reason
        if refused is not None:
            reason = refused
        elif token_check.token is None:
            cause = (
                f"the request sent several {self._cookie_name} cookies that cannot be told "
                "apart (valid ones for different users, or more than "
                f"{MAX_DUPLICATE_COOKIES}): is a sibling subdomain planting cookies?"
            )
        else:
            diagnosed = self.codec.diagnose(token_check.token)
            if isinstance(diagnosed, Diagnosis):
                cause = diagnosed.detail
                if reason is Reason.UNAVAILABLE:
                    cause += "; the issuer's keys did not name it either (the cookie is kept)"
            elif reason is Reason.UNAVAILABLE:
                cause = "the revocation store cannot answer (the cookie is kept)"
            elif reason is Reason.REVOKED:
                cause = "the revocation store has its session or its user revoked"
            else:  # valid, yet refused here: a login cookie double_submit cannot bind
                cause = "it carries no csrf claim, which double_submit=True needs: log in again"
        LOGGER.info("jwtcookie: refused the %s token (%s): %s", source, reason, cause)

    def _log_cross_site(self, request: RequestView) -> None:
        if request.fetch_site is not None:
            why = f"Sec-Fetch-Site is {request.fetch_site!r}"
        elif request.origin is None or request.origin == "null":
            why = f"Origin is {request.origin!r}"
        else:
            why = f"Origin {request.origin!r} is not this host {request.host!r}"
        hint = ""
        if request.origin and normalise_origin(request.origin) is not None:
            hint = (
                "; if that page is your own front end, list its origin: "
                f"trusted_origins=[{request.origin.strip()!r}]"
            )
        method = "WebSocket handshake" if request.websocket else request.method
        LOGGER.info(
            "jwtcookie: refused a cross-site %s to %r (403): %s%s", method, request.path, why, hint
        )

    def requires_login(self, request: RequestView) -> bool:
        """Whether an anonymous request to this path is refused (``protected_paths``)."""
        return bool(self._protected) and self._protects(request.path)

    @property
    def rejected_user_response(self) -> EarlyResponse:
        """What a protected path answers when ``load_user`` (or an adapter's lookup) finds no
        user for a valid token: 401, and the cookie deleted."""
        return self._refused_deleting

    def _protects(self, path: str) -> bool:
        """Whether ``path`` is one of ``protected_paths`` or below one at a ``/`` boundary."""
        return path in self._protected_exact or path.startswith(self._protected_below)

    # -- the response ---------------------------------------------------------------------------

    def respond(self, outgoing: Outgoing, headers: Headers) -> list[tuple[str, str]]:
        """``headers`` with the cookies ``outgoing`` asks for (and kept from shared caches)."""
        values = self.set_cookie_values(outgoing, headers)
        if not values:
            return list(headers)
        return [*kept_from_shared_caches(headers), *(("Set-Cookie", value) for value in values)]

    def set_cookie_values(self, outgoing: Outgoing, headers: Headers) -> tuple[str, ...]:
        """The Set-Cookie values for ``outgoing`` on a response with the app's ``headers``."""
        if outgoing is None:
            return ()
        if type(outgoing) is Login:
            return self._login_values(outgoing.token, outgoing.claims)
        if type(outgoing) is Logout:
            return self.delete_headers
        prefix = self.cookies.prefix
        if any(n.lower() == "set-cookie" and v.lstrip().startswith(prefix) for n, v in headers):
            return ()  # the app set or deleted the cookie itself: its own login/logout stands
        if type(outgoing) is Renewal:
            fresh = self.codec.renew(outgoing.token, outgoing.verified)
            if fresh is None:
                LOGGER.info("jwtcookie: not renewed: the fresh token would be over the size limit")
                return ()
            LOGGER.debug("jwtcookie: renewed a login cookie")
            return self._login_values(fresh, outgoing.verified.claims)
        return self.delete_headers  # a bad cookie

    def revoking(self, outgoing: Outgoing) -> HookCall | None:
        """The store's revocation to run as a logout's response starts (adapters call it)."""
        store = self._store
        if store is None or type(outgoing) is not Logout or outgoing.session_id is None:
            return None
        return HookCall(
            store.revoke_session, outgoing.session_id, getattr(store, "revoke_session_async", None)
        )

    def sign_in(self, claims: Mapping[str, Any]) -> Login:
        """What ``Auth.login`` signs: with double-submit on, plus a fresh ``csrf`` claim."""
        signed = claims if self._csrf is None else self._csrf.with_claim(claims)
        token, issued = self.codec.issue(signed)
        return Login(token, issued)

    def _login_values(self, token: str, claims: Mapping[str, Any]) -> tuple[str, ...]:
        login = self.cookies.set_header(token)
        csrf = self._csrf.set_header(claims) if self._csrf is not None else None
        return (login,) if csrf is None else (login, csrf)


def _deletes(token_check: TokenCheck) -> bool:
    """Whether the response deletes the cookie: it held a token that was refused for good
    (not one that could not be checked now)."""
    return (
        token_check.from_cookie
        and token_check.token is not None
        and token_check.reason is not Reason.UNAVAILABLE
    )


def _bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _issued_before(verified: Verified, not_before: Any) -> bool:
    """Whether ``user_not_before``'s answer revokes the token (whole seconds, as ``iat``)."""
    if isinstance(not_before, datetime):
        not_before = not_before.timestamp()  # a naive one is taken as local time
    return not_before is not None and verified.claims["iat"] < int(not_before)


def _checked_user(user: Any) -> Any:
    if not hasattr(user, "is_authenticated"):
        raise TypeError(
            f"jwtcookie: load_user returned a {type(user).__name__}; return a user object with "
            "an `is_authenticated` attribute (jwtcookie.TokenUser(claims) is one), or None "
            "to make the request anonymous."
        )
    return user


def _same_user(one: Verified, other: Verified) -> bool:
    """Same ``_id`` and ``sub``; tokens with neither must agree on all the user's claims."""
    identity = (one.claims.get("_id"), one.claims.get("sub"))
    if identity != (other.claims.get("_id"), other.claims.get("sub")):
        return False
    return identity != (None, None) or dict(one.user.claims) == dict(other.user.claims)
