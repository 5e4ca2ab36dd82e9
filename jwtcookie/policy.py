"""The one place that decides what happens to a request, in the order security needs.

Both flavours (and framework adapters) turn their request into a :class:`RequestView` and
ask :meth:`Policy.admit`, which answers with one of three things:

- a :class:`Refusal`: a cross-site unsafe request (403), a double-submit mismatch (403), an
  anonymous request to a protected path (401); the flavour writes it and stops;
- a :class:`Hearing`, when the app's hooks have a say about the token: ``is_revoked``, then
  ``user_not_before``, then ``load_user`` (never for a revoked token), then ``on_error``
  about a refused one. The flavour only calls them (ASGI awaits ``async def`` ones) and
  hands the hearing to :meth:`Policy.decide`, which answers a refusal or an :class:`Auth`;
- the request's :class:`Auth`, to put in the request before the app runs.

As the response starts, :meth:`Policy.respond` gives the ``Set-Cookie`` values for what the
app asked (``login``, ``logout``) or the middleware planned (a renewal, deleting a bad
cookie), and keeps a response that carries one out of shared caches.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Generator, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple, cast

from jwtcookie.auth import BAD_COOKIE, Auth, Login, Logout, Outgoing, Renewal
from jwtcookie.caching import PRIVATE, kept_from_shared_caches
from jwtcookie.cookies import MAX_DUPLICATE_COOKIES, CookieWriter, find_cookie
from jwtcookie.double_submit import DoubleSubmit
from jwtcookie.origin import OriginGuard, normalise_origin
from jwtcookie.request import SAFE_METHODS, RequestView
from jwtcookie.revocations import Standing
from jwtcookie.settings import STRICT, Hook, Settings
from jwtcookie.tokens import Refused, Verified
from jwtcookie.users import ANONYMOUS, EMPTY_CLAIMS, Reason

LOGGER = logging.getLogger("jwtcookie")  # never given a token, a secret or a claim's value
Headers = Sequence[tuple[str, str]]


class Refusal(NamedTuple):
    """An answer the middleware gives itself, before the app runs."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


class Presented(NamedTuple):
    """The token a request presented, where it came from, and what verification said."""

    verified: Verified | None
    reason: Reason
    token: str | None  # None: no token, or duplicates that cannot be told apart
    from_cookie: bool
    kid: str | None  # a key id the keyring can fetch, not yet known: fetch, then check again
    renewable: bool  # False when the store judged it from a copy it is not following
    unjudged_session: str | None  # the sid of a verified token the store could not judge


# Built on every request: tuple.__new__ skips the generated, Python-level __new__.
_presented = cast("Callable[[tuple[Any, ...]], Presented]", partial(tuple.__new__, Presented))


class Call(NamedTuple):
    """One hook to call with one argument; the flavour calls it and hands back the answer.

    Under ASGI the flavour calls ``async_hook`` instead when there is one, and awaits it.
    """

    hook: Any
    argument: Any
    async_hook: Any = None


NOTHING_PRESENTED = Presented(None, Reason.MISSING, None, True, None, True, None)
# Duplicates that cannot be told apart: anonymous, with no token to blame, so the response
# deletes nothing (deleting would log the real user out for a planted cookie).
AMBIGUOUS = Presented(None, Reason.INVALID, None, True, None, True, None)


def json_refusal(status: int, error: str, set_cookies: Sequence[str] = ()) -> Refusal:
    """A JSON ``{"error": ...}`` answer; one that deletes a cookie is never shared-cached."""
    body = json.dumps({"error": error}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if set_cookies:
        headers += [("Cache-Control", PRIVATE), *(("Set-Cookie", v) for v in set_cookies)]
    return Refusal(status, body, tuple(headers))


REFUSED_CROSS_SITE = json_refusal(403, "cross-origin request refused")
AUTHENTICATION_REQUIRED = "authentication required"


class Hearing:
    """The hooks' say about one presented token: ask :meth:`next_call`, :meth:`answer` each,
    then hand it to :meth:`Policy.decide`."""

    __slots__ = ("_questions", "cause", "presented", "refused", "request", "user")

    def __init__(self, policy: Policy, request: RequestView, presented: Presented) -> None:
        self.request = request
        self.presented = presented
        self.refused: Reason | None = None
        self.cause = ""  # which hook refused the token, for the log
        self.user: Any = None
        self._questions = policy._questions(presented, self)

    def next_call(self) -> Call | None:
        return next(self._questions, None)

    def answer(self, value: Any) -> Call | None:
        """Hand back the last call's answer; the next call, or None when all is heard."""
        try:
            return self._questions.send(value)
        except StopIteration:
            return None


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
        self._guarded = settings.cross_site_protection is not False
        self._strict = settings.cross_site_protection == STRICT
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
        self._refused_anonymous = json_refusal(401, AUTHENTICATION_REQUIRED)
        self._refused_deleting = json_refusal(401, AUTHENTICATION_REQUIRED, self.delete_headers)
        LOGGER.info("jwtcookie: %s", settings.describe())

    # -- admission -----------------------------------------------------------------------------

    def admit(self, request: RequestView) -> Refusal | Hearing | Auth:
        """A refusal, the hooks' hearing, or the request's :class:`Auth` (module docstring)."""
        presented = self._presented(request)
        if (
            self._guarded
            and (request.websocket or request.method not in SAFE_METHODS)  # request.unsafe
            and self._cross_site(request)
            and not self._lets_through(request, presented)
        ):
            if LOGGER.isEnabledFor(logging.INFO):
                self._log_cross_site(request)
            return REFUSED_CROSS_SITE
        if presented.verified is not None:
            if self._token_hooks:
                return Hearing(self, request, presented)
        elif presented.kid is not None or (self._on_error is not None and presented.token):
            return Hearing(self, request, presented)  # a key to fetch, or on_error to tell
        return self._conclude(request, presented, None)

    def decide(self, hearing: Hearing) -> Refusal | Auth:
        """The request's :class:`Auth`, or a refusal, once the hooks have had their say."""
        return self._conclude(hearing.request, hearing.presented, hearing)

    def _cross_site(self, request: RequestView) -> bool:
        """Whether the browser says this (unsafe) request comes from another site."""
        return not self._guard.allows(
            fetch_site=request.fetch_site, origin=request.origin, host=request.host
        )

    def _lets_through(self, request: RequestView, presented: Presented) -> bool:
        """Whether a cross-site unsafe request may go on: nobody is logged in by our cookie.

        It carries none of it, or a valid Bearer token (which wins over the cookie) is what
        authenticates it. Such a request can neither log in nor out (``Auth`` drops both).
        """
        if self._strict:
            return False
        if not presented.from_cookie and presented.verified is not None:
            return True  # a valid Bearer token
        return request.cookie is None or not find_cookie(request.cookie, self._cookie_name)

    def vouches(self, request: RequestView) -> bool:
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

    def _presented(self, request: RequestView) -> Presented:
        """The token: an ``Authorization: Bearer`` header wins over the cookie, if enabled."""
        if self._bearer and request.authorization:
            token = _bearer_token(request.authorization)
            if token is not None:
                return self._check_token(token, from_cookie=False, may_fetch=True)
        if request.cookie is None:
            return NOTHING_PRESENTED
        values = find_cookie(request.cookie, self._cookie_name)
        if not values:
            return NOTHING_PRESENTED
        if len(values) == 1:
            return self._check_token(values[0], from_cookie=True, may_fetch=True)
        if len(values) > MAX_DUPLICATE_COOKIES:
            return AMBIGUOUS  # unread ones could hide the user's token behind planted ones
        return self._check_duplicates(values)

    def _check_token(self, token: str, *, from_cookie: bool, may_fetch: bool = False) -> Presented:
        outcome = self.codec.verify(token)
        if not isinstance(outcome, Verified):
            kid = (
                self.codec.fetchable_kid(token) if may_fetch and outcome is Reason.INVALID else None
            )
            if kid is not None:  # the issuer may have a new key: fetch it, then check again
                return _presented((None, Reason.UNAVAILABLE, token, from_cookie, kid, True, None))
            return _presented((None, outcome, token, from_cookie, None, True, None))
        if from_cookie and self._csrf is not None and not self._csrf.binds(outcome.claims):
            # A login cookie binding no csrf value (issued elsewhere, or before double_submit
            # was on) cannot be told from a forged request's: it counts as no login.
            return _presented((None, Reason.INVALID, token, from_cookie, None, True, None))
        store = self._store
        if store is None:
            return _presented((outcome, Reason.OK, token, from_cookie, None, True, None))
        # Local lookups: a store keeps no network on the request path.
        standing = store.standing
        if standing is Standing.CANNOT_ANSWER:  # a logout still revokes the verified session
            sid = outcome.claims.get("sid")
            sid = sid if isinstance(sid, str) else None
            return _presented((None, Reason.UNAVAILABLE, token, from_cookie, None, False, sid))
        if store.is_revoked(outcome.claims) or _issued_before(
            outcome, store.user_not_before(outcome.claims)
        ):
            return _presented((None, Reason.REVOKED, token, from_cookie, None, False, None))
        renewable = standing is Standing.CURRENT
        return _presented((outcome, Reason.OK, token, from_cookie, None, renewable, None))

    def _check_duplicates(self, values: list[str]) -> Presented:
        """The first valid one counts; valid ones naming different users cancel out.

        With none valid, one that cannot be judged yet (a stale store, a key the issuer may
        publish) is the answer, so the cookie is kept: the user's real one may be that one,
        beside a planted duplicate. Otherwise the last refused one, deleted.
        """
        first: Presented | None = None
        refused: Presented | None = None
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

    def _questions(self, presented: Presented, hearing: Hearing) -> Generator[Call, Any, None]:
        """The order: a key to fetch first; then revoked, not-before, load_user; on_error last."""
        if presented.kid is not None and presented.token is not None:
            keyring = self.codec.keys.keyring
            fetch = getattr(keyring, "refresh_for", None)
            # Checked again only once the keyring knows the kid: a kid still unknown (the
            # issuer unreachable, or fetched too recently) stays UNAVAILABLE, cookie kept.
            if (yield Call(fetch, presented.kid, getattr(keyring, "refresh_for_async", None))):
                presented = self._check_token(presented.token, from_cookie=presented.from_cookie)
                hearing.presented = presented
        verified = presented.verified
        if verified is not None:
            claims = verified.claims
            if self._is_revoked is not None and (yield Call(self._is_revoked, claims)):
                hearing.refused, hearing.cause = Reason.REVOKED, "is_revoked() answered true"
            elif self._user_not_before is not None and _issued_before(
                verified, (yield Call(self._user_not_before, claims))
            ):
                hearing.refused = Reason.REVOKED
                hearing.cause = "it was issued before the time user_not_before() answered"
            elif self._load_user is not None:
                user = yield Call(self._load_user, claims)
                if user is None:
                    hearing.refused, hearing.cause = Reason.REJECTED, "load_user() answered None"
                else:
                    hearing.user = _checked_user(user)
        reason = hearing.refused or presented.reason
        if self._on_error is not None and presented.token is not None and reason is not Reason.OK:
            yield Call(self._on_error, reason)

    # -- the request's Auth, or a refusal -------------------------------------------------------

    def _conclude(
        self, request: RequestView, presented: Presented, hearing: Hearing | None
    ) -> Refusal | Auth:
        verified = presented.verified
        refused = hearing.refused if hearing is not None else None
        deleting = False
        # Let through by _lets_through: the response may set or delete no cookie of ours.
        cross_site = self._guarded and request.unsafe and self._cross_site(request)
        if verified is not None and refused is None:
            user = hearing.user if hearing is not None and hearing.user is not None else None
            token = presented.token if presented.from_cookie else None
            renew = presented.renewable and token is not None and self.codec.should_renew(verified)
            auth = Auth(
                self.sign_in,
                verified.user if user is None else user,
                verified.claims,
                Reason.OK,
                verified.scopes,
                False,
                Renewal(token, verified) if renew and token is not None else None,
                cross_site,
            )
        else:
            if presented.reason is not Reason.MISSING and LOGGER.isEnabledFor(logging.INFO):
                self._log_refused(presented, hearing)
            deleting = _deletes(presented)  # a hook's refusal deletes too: it is for good
            auth = Auth(
                self.sign_in,
                ANONYMOUS,
                EMPTY_CLAIMS,
                refused or presented.reason,
                (),
                presented.token is not None,  # a token came, and was refused
                BAD_COOKIE if deleting else None,
                cross_site,
                presented.unjudged_session,
            )
        if self._csrf is not None and request.unsafe and not request.websocket:
            cookie_claims = auth.claims if presented.from_cookie else EMPTY_CLAIMS
            problem = self._csrf.refusal(request.cookie, request.csrf_token, cookie_claims)
            if problem:
                return json_refusal(403, problem)
        if self._protected and not auth.is_authenticated and self._protects(request.path):
            LOGGER.debug("jwtcookie: 401 for an anonymous request to %r", request.path)
            return self._refused_deleting if deleting else self._refused_anonymous
        return auth

    def _log_refused(self, presented: Presented, hearing: Hearing | None) -> None:
        """One INFO line: where the token came from, the reason, and its precise cause."""
        source = "cookie" if presented.from_cookie else "Authorization header"
        reason = presented.reason
        if hearing is not None and hearing.refused is not None:
            reason, cause = hearing.refused, hearing.cause
        elif presented.token is None:
            cause = (
                f"the request sent several {self._cookie_name} cookies that cannot be told "
                "apart (valid ones for different users, or more than "
                f"{MAX_DUPLICATE_COOKIES}): is a sibling subdomain planting cookies?"
            )
        else:
            diagnosed = self.codec.diagnose(presented.token)
            if isinstance(diagnosed, Refused):
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
    def refusal_of_a_rejected_user(self) -> Refusal:
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

    def revoking(self, outgoing: Outgoing) -> Call | None:
        """The store's revocation to run as a logout's response starts (flavours call it)."""
        store = self._store
        if store is None or type(outgoing) is not Logout or outgoing.session_id is None:
            return None
        return Call(
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


def _deletes(presented: Presented) -> bool:
    """Whether the response deletes the cookie: it held a token that was refused for good
    (not one that could not be checked now)."""
    return (
        presented.from_cookie
        and presented.token is not None
        and presented.reason is not Reason.UNAVAILABLE
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
