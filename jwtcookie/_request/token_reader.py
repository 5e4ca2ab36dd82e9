"""Reading a request's token: the ``Authorization: Bearer`` header or the cookie, duplicates
included, checked by the verifier and, when there is one, the revocation store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from jwtcookie._request.cookies import MAX_DUPLICATE_COOKIES, find_cookie
from jwtcookie._request.double_submit import DoubleSubmit
from jwtcookie._request.view import RequestView
from jwtcookie._tokens.rules import Verified
from jwtcookie._tokens.verifying import TokenVerifier
from jwtcookie.auth import Renewal
from jwtcookie.revocations import Standing
from jwtcookie.users import Reason

if TYPE_CHECKING:
    from jwtcookie.settings import RevocationStore


class TokenCheck(NamedTuple):
    """The token a request presented, where it came from, and what verification said."""

    verified: Verified | None
    reason: Reason
    token: str | None  # None: no token, or duplicates that cannot be told apart
    from_cookie: bool
    kid: str | None  # a key id the keyring can fetch, not yet known: fetch, then check again
    renewal: Renewal | None  # a cookie's token due for renewal: the response re-signs it
    session_to_revoke_on_logout: str | None  # a verified token's sid the store cannot judge


# Built on every request: tuple.__new__ skips the generated, Python-level __new__.
_new_token_check = cast(
    "Callable[[tuple[Any, ...]], TokenCheck]", partial(tuple.__new__, TokenCheck)
)

NO_TOKEN = TokenCheck(None, Reason.MISSING, None, True, None, None, None)
# Duplicates that cannot be told apart: anonymous, with no token to blame, so the response
# deletes nothing (deleting would log the real user out for a planted cookie).
AMBIGUOUS = TokenCheck(None, Reason.INVALID, None, True, None, None, None)


class TokenReader:
    """Finds the request's token and says what it is worth, before any hook has a say."""

    __slots__ = ("_bearer", "_cookie_name", "_csrf", "_revocations", "_store", "_verifier")

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        cookie_name: str,
        bearer: bool,
        csrf: DoubleSubmit | None,
        revocations: RevocationStore | None,
        store: RevocationStore | None,
    ) -> None:
        """``revocations`` is the store given as ``revocations=``, asked here about each token;
        ``store`` is the store however it was wired (``Settings.store``: as the hooks too),
        whose standing every token asks."""
        self._verifier = verifier
        self._cookie_name = cookie_name
        self._bearer = bearer
        self._csrf = csrf
        self._revocations = revocations
        self._store = store

    def read(self, request: RequestView) -> TokenCheck:
        """The token: an ``Authorization: Bearer`` header wins over the cookie, if enabled."""
        if self._bearer and request.authorization:
            token = _bearer_token(request.authorization)
            if token is not None:
                return self.check(token, from_cookie=False, may_fetch=True)
        if request.cookie is None:
            return NO_TOKEN
        values = find_cookie(request.cookie, self._cookie_name)
        if not values:
            return NO_TOKEN
        if len(values) == 1:
            return self.check(values[0], from_cookie=True, may_fetch=True)
        if len(values) > MAX_DUPLICATE_COOKIES:
            return AMBIGUOUS  # unread ones could hide the user's token behind planted ones
        return self._check_duplicates(values)

    def reads_bearer(self, request: RequestView) -> bool:
        """Whether the token is taken from an ``Authorization: Bearer`` header, not the cookie
        (enabled by ``bearer=True``; a header with a token wins). A bearer token is no ambient
        credential, so it needs no CSRF proof."""
        return bool(
            self._bearer
            and request.authorization
            and _bearer_token(request.authorization) is not None
        )

    def check(self, token: str, *, from_cookie: bool, may_fetch: bool = False) -> TokenCheck:
        outcome = self._verifier.verify(token)
        if not isinstance(outcome, Verified):
            kid = (
                self._verifier.fetchable_kid(token)
                if may_fetch and outcome is Reason.INVALID
                else None
            )
            if kid is not None:
                return _new_token_check(
                    (None, Reason.UNAVAILABLE, token, from_cookie, kid, None, None)
                )
            return _new_token_check((None, outcome, token, from_cookie, None, None, None))
        if from_cookie and self._csrf is not None and not self._csrf.binds(outcome.claims):
            # A login cookie binding no csrf value (issued elsewhere, or before double_submit
            # was on) cannot be told from a forged request's: it counts as no login.
            return _new_token_check((None, Reason.INVALID, token, from_cookie, None, None, None))
        store = self._store
        if store is None:
            renewal = (
                Renewal(token, outcome)
                if from_cookie and self._verifier.should_renew(outcome)
                else None
            )
            return _new_token_check((outcome, Reason.OK, token, from_cookie, None, renewal, None))
        standing = store.standing
        if standing is Standing.CANNOT_ANSWER:  # a logout still revokes the verified session
            sid = outcome.claims.get("sid")
            sid = sid if isinstance(sid, str) else None
            return _new_token_check((None, Reason.UNAVAILABLE, token, from_cookie, None, None, sid))
        revocations = self._revocations  # wired as hooks instead, it answers in the hook round
        if revocations is not None and (
            revocations.is_revoked(outcome.claims)
            or issued_before(outcome, revocations.user_not_before(outcome.claims))
        ):
            return _new_token_check((None, Reason.REVOKED, token, from_cookie, None, None, None))
        renewal = (
            Renewal(token, outcome)
            if from_cookie and standing is Standing.CURRENT and self._verifier.should_renew(outcome)
            else None
        )
        return _new_token_check((outcome, Reason.OK, token, from_cookie, None, renewal, None))

    def _check_duplicates(self, values: list[str]) -> TokenCheck:
        """The first valid one counts; valid ones naming different users cancel out.

        With none valid, one that cannot be judged yet (a stale store, a key the issuer may
        publish) is the answer, so the cookie is kept: the user's real one may be that one,
        beside a planted duplicate. Otherwise the last refused one, deleted.
        """
        first: TokenCheck | None = None
        refused: TokenCheck | None = None
        for value in values:
            checked = self.check(value, from_cookie=True, may_fetch=True)
            if checked.verified is None:
                if refused is None or refused.reason is not Reason.UNAVAILABLE:
                    refused = checked
            elif first is None:
                first = checked
            elif first.verified is not None and not _same_user(first.verified, checked.verified):
                return AMBIGUOUS
        return first or refused or AMBIGUOUS


def issued_before(verified: Verified, not_before: Any) -> bool:
    """Whether ``user_not_before``'s answer revokes the token (whole seconds, as ``iat``)."""
    if isinstance(not_before, datetime):
        not_before = not_before.timestamp()  # a naive one is taken as local time
    return not_before is not None and verified.claims["iat"] < int(not_before)


def _bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _same_user(one: Verified, other: Verified) -> bool:
    """Same ``_id`` and ``sub``; tokens with neither must agree on all the user's claims."""
    identity = (one.claims.get("_id"), one.claims.get("sub"))
    if identity != (other.claims.get("_id"), other.claims.get("sub")):
        return False
    return identity != (None, None) or dict(one.user.claims) == dict(other.user.claims)
