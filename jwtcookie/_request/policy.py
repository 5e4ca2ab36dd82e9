"""The one place that decides what happens to a request, in the order security needs.

Every adapter turns its request into a :class:`RequestView` and asks :meth:`Policy.admit`,
which answers with one of three things:

- an :class:`EarlyResponse`: a cross-site unsafe request (403), a double-submit mismatch
  (403), an anonymous request to a protected path (401); the adapter writes it and stops;
- the request's :class:`Auth`, to put in the request before the app runs;
- a round of the app's hooks, when they have a say about the token: ``is_revoked``, then
  ``user_not_before``, then ``load_user`` (never for a revoked token), then ``on_error``
  about a refused one. It is a generator that yields each :class:`HookCall` and returns the
  refusal or the :class:`Auth`; :mod:`jwtcookie._request.hooks` drives it.

The token is read by :class:`TokenReader`; as the response starts, the adapter asks the
policy's :class:`ResponseWriter` for the cookies and cache headers it carries.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from jwtcookie._request.cookies import CookieWriter, find_cookie
from jwtcookie._request.diagnosis import LOGGER, log_cross_site, log_refused_token
from jwtcookie._request.double_submit import DoubleSubmit
from jwtcookie._request.hooks import HookCall, HookRound
from jwtcookie._request.origin import STRICT, OriginGuard
from jwtcookie._request.responses import (
    REFUSED_CROSS_SITE,
    EarlyResponse,
    ResponseWriter,
    json_response,
)
from jwtcookie._request.token_reader import TokenCheck, TokenReader, issued_before
from jwtcookie._request.view import SAFE_METHODS, RequestView
from jwtcookie.auth import BAD_COOKIE, Auth
from jwtcookie.users import ANONYMOUS, EMPTY_CLAIMS, Reason

if TYPE_CHECKING:  # the policy is built from the options; the options never need the policy
    from jwtcookie.settings import Hook, Settings


class Policy:
    """Everything the middleware decides, built once from :class:`Settings`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.codec = settings.codec()
        cookies = CookieWriter(
            settings.cookie_name,
            max_age=settings.max_age,
            path=settings.path,
            domain=settings.domain,
            secure=settings.secure,
            httponly=True,
            samesite=settings.samesite,
            partitioned=settings.partitioned,
        )
        self._csrf = DoubleSubmit(cookies) if settings.double_submit else None
        store = settings.store()
        self.reader = TokenReader(
            self.codec,
            cookie_name=settings.cookie_name,
            bearer=settings.bearer,
            csrf=self._csrf,
            revocations=settings.revocations,
            store=store,
        )
        self.responses = ResponseWriter(self.codec, cookies, csrf=self._csrf, store=store)
        self._signer = self.responses.signer
        self._guard = OriginGuard(settings.trusted_origins)
        self._guarded = settings.cross_site_protection is not False
        self._strict = settings.cross_site_protection == STRICT
        self._cookie_name = settings.cookie_name
        self._protected = settings.protected_paths
        self._protected_exact = frozenset(self._protected)
        self._protected_below = tuple(prefix.rstrip("/") + "/" for prefix in self._protected)
        self._is_revoked: Hook | None = settings.is_revoked
        self._user_not_before: Hook | None = settings.user_not_before
        self._load_user: Hook | None = settings.load_user
        self._on_error = settings.on_error
        self._token_hooks = bool(self._is_revoked or self._user_not_before or self._load_user)
        LOGGER.info("jwtcookie: %s", settings.describe())

    def admit(self, request: RequestView) -> EarlyResponse | Auth | HookRound[EarlyResponse | Auth]:
        """A refusal, the request's :class:`Auth`, or the hooks' round (module docstring)."""
        token_check = self.reader.read(request)
        cross_site = (
            self._guarded
            and (request.websocket or request.method not in SAFE_METHODS)
            and self._cross_site(request)
        )
        if cross_site and not self._lets_through(request, token_check):
            if LOGGER.isEnabledFor(logging.INFO):
                log_cross_site(request)
            return REFUSED_CROSS_SITE
        if token_check.verified is not None:
            if self._token_hooks:
                return self._hook_round(request, token_check, cross_site)
        elif token_check.kid is not None or (self._on_error is not None and token_check.token):
            return self._hook_round(request, token_check, cross_site)
        return self._conclude(request, token_check, cross_site)

    def _cross_site(self, request: RequestView) -> bool:
        """Whether the browser says this (unsafe) request comes from another site."""
        return not self._guard.allows(
            fetch_site=request.fetch_site, origin=request.origin, host=request.host
        )

    def _lets_through(self, request: RequestView, token_check: TokenCheck) -> bool:
        """Whether a cross-site unsafe request may go on: nobody is logged in by our cookie.

        It carries none of it, or a valid Bearer token (which wins over the cookie) is what
        authenticates it. Such a request can neither log in nor out (``Auth`` drops both).
        """
        if self._strict:
            return False
        if not token_check.from_cookie and token_check.verified is not None:
            return True
        return request.cookie is None or not find_cookie(request.cookie, self._cookie_name)

    def csrf_already_checked(self, request: RequestView) -> bool:
        """Whether the browser itself says an unsafe request comes from this very origin
        (``Sec-Fetch-Site: same-origin``) or from one of ``trusted_origins``: a framework's own
        CSRF token check has nothing to add to that. False with cross-site protection off."""
        if not self._guarded or not request.unsafe:
            return False
        return request.fetch_site == "same-origin" or self._guard.trusts(request.origin)

    def requires_login(self, request: RequestView) -> bool:
        """Whether an anonymous request to this path is refused (``protected_paths``)."""
        return bool(self._protected) and self._protects(request)

    def _hook_round(
        self, request: RequestView, token_check: TokenCheck, cross_site: bool
    ) -> HookRound[EarlyResponse | Auth]:
        """The order: a key to fetch first; then revoked, not-before, load_user; on_error last."""
        refused: Reason | None = None
        cause = ""
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
            token_check = self.reader.check(token_check.token, from_cookie=token_check.from_cookie)
        verified = token_check.verified
        if verified is not None:
            claims = verified.claims
            if self._is_revoked is not None and (yield HookCall(self._is_revoked, claims)):
                refused, cause = Reason.REVOKED, "is_revoked() answered true"
            elif self._user_not_before is not None and issued_before(
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
        return self._conclude(request, token_check, cross_site, refused, cause, user)

    def _conclude(
        self,
        request: RequestView,
        token_check: TokenCheck,
        cross_site: bool,
        refused: Reason | None = None,
        cause: str = "",
        user: Any = None,
    ) -> EarlyResponse | Auth:
        """The request's :class:`Auth`, or a refusal; ``refused``, ``cause`` and ``user`` are
        what the hooks said, when they had a say. A ``cross_site`` request got here through
        :meth:`_lets_through`: its response may set or delete no cookie of ours."""
        verified = token_check.verified
        deleting = False
        if verified is not None and refused is None:
            auth = Auth(
                self._signer,
                verified.user if user is None else user,
                verified.claims,
                Reason.OK,
                verified.scopes,
                False,
                token_check.renewal,
                cross_site,
                bearer=not token_check.from_cookie,
            )
        else:
            reason = refused or token_check.reason
            if reason is not Reason.MISSING and LOGGER.isEnabledFor(logging.INFO):
                log_refused_token(
                    self.codec,
                    cookie_name=self.responses.cookies.name,
                    token=token_check.token,
                    from_cookie=token_check.from_cookie,
                    reason=reason,
                    cause=cause,
                )
            deleting = _deletes(token_check)  # a hook's refusal deletes too: it is for good
            auth = Auth(
                self._signer,
                ANONYMOUS,
                EMPTY_CLAIMS,
                reason,
                (),
                token_check.token is not None,
                BAD_COOKIE if deleting else None,
                cross_site,
                token_check.session_to_revoke_on_logout,
                bearer=not token_check.from_cookie,
            )
        if self._csrf is not None and request.unsafe and not request.websocket:
            cookie_claims = auth.claims if token_check.from_cookie else EMPTY_CLAIMS
            problem = self._csrf.refusal(request.cookie, request.csrf_token, cookie_claims)
            if problem:
                return json_response(403, problem)
        if self._protected and not auth.is_authenticated and self._protects(request):
            LOGGER.debug("jwtcookie: 401 for an anonymous request to %r", request.path)
            responses = self.responses
            return responses.rejected_user_response if deleting else responses.anonymous_refused
        return auth

    def _protects(self, request: RequestView) -> bool:
        """Whether the request's path is one of ``protected_paths`` or below one at a ``/``
        boundary. A CORS preflight (``OPTIONS`` with an ``Origin``) never carries credentials,
        so it is left to the app's CORS policy to answer."""
        if request.method == "OPTIONS" and request.origin is not None:
            return False
        path = request.path
        return path in self._protected_exact or path.startswith(self._protected_below)


def _deletes(token_check: TokenCheck) -> bool:
    """Whether the response deletes the cookie: it held a token that was refused for good
    (not one that could not be checked now)."""
    return (
        token_check.from_cookie
        and token_check.token is not None
        and token_check.reason is not Reason.UNAVAILABLE
    )


def _checked_user(user: Any) -> Any:
    if not hasattr(user, "is_authenticated"):
        raise TypeError(
            f"jwtcookie: load_user returned a {type(user).__name__}; return a user object with "
            "an `is_authenticated` attribute (jwtcookie.TokenUser(claims) is one), or None "
            "to make the request anonymous."
        )
    return user
