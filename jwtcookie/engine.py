"""The per-request decisions both middleware flavours share; the flavours only do I/O."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from jwtcookie.cookies import CookieWriter, find_cookie
from jwtcookie.double_submit import DoubleSubmit
from jwtcookie.origin import OriginGuard
from jwtcookie.state import (
    ANONYMOUS,
    AuthState,
    Reason,
)
from jwtcookie.tokens import TokenCodec, Verified

MAX_DUPLICATE_COOKIES = 4  # more same-named cookies than this make the request anonymous
REFUSED_CROSS_SITE = b'{"error": "cross-origin request refused"}'
REFUSED_ANONYMOUS = b'{"error": "authentication required"}'

Hook = Callable[[Mapping[str, Any]], Any]
Checked = tuple[Verified | None, Reason, str | None]
# Duplicates that cannot be told apart: anonymous, but with no token to blame, so the
# response deletes nothing (deleting would log the real user out for a planted cookie).
AMBIGUOUS: Checked = (None, Reason.INVALID, None)


class Engine:
    """Reads tokens, applies the hooks' verdicts and builds the request's :class:`AuthState`."""

    def __init__(
        self,
        codec: TokenCodec,
        cookies: CookieWriter,
        guard: OriginGuard | None,
        *,
        bearer: bool,
        protected_paths: tuple[str, ...],
        load_user: Hook | None,
        is_revoked: Hook | None,
        user_not_before: Hook | None,
        on_error: Callable[[Reason], Any] | None,
        double_submit: DoubleSubmit | None = None,
    ) -> None:
        self.codec = codec
        self.cookies = cookies
        self.guard = guard
        self.bearer = bearer
        self.protected_paths = protected_paths
        self.load_user = load_user
        self.is_revoked = is_revoked
        self.user_not_before = user_not_before
        self.on_error = on_error
        self.double_submit = double_submit
        # What logout and a bad cookie send: the same name, path and domain, expired.
        self.delete_headers: tuple[str, ...] = (cookies.delete_header,)
        if double_submit is not None:
            self.delete_headers += (double_submit.cookies.delete_header,)
        self.has_hooks = bool(load_user or is_revoked or user_not_before)

    def bearer_token(self, authorization: str | None) -> str | None:
        """The token of an ``Authorization: Bearer`` header, when bearer tokens are on."""
        if not self.bearer or not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    def check(self, cookie_header: str) -> Checked:
        """The first valid token among the cookie's values (a forged duplicate never wins)."""
        values = find_cookie(cookie_header, self.cookies.name)
        if not values:
            return None, Reason.MISSING, None
        if len(values) == 1:
            return self.check_token(values[0])
        if len(values) > MAX_DUPLICATE_COOKIES:
            # Unread ones could hide the real user's token behind forged ones: refuse all.
            return AMBIGUOUS
        return self._check_duplicates(values)

    def check_token(self, token: str) -> Checked:
        outcome = self.codec.verify(token)
        if isinstance(outcome, Verified):
            return outcome, Reason.OK, token
        return None, outcome, token

    def _check_duplicates(self, values: list[str]) -> Checked:
        """Valid duplicates must agree on the user; otherwise none of them counts."""
        first: Checked | None = None
        worst = Reason.INVALID
        for value in values:
            checked = self.check_token(value)
            if checked[0] is None:
                worst = checked[1]
                continue
            if first is None:
                first = checked
            elif first[0] is not None and not _same_user(first[0], checked[0]):
                return AMBIGUOUS
        return first if first is not None else (None, worst, values[0])

    def login_claims(self, claims: Mapping[str, Any]) -> Mapping[str, Any]:
        """What ``AuthState.login`` signs: with double-submit on, plus a fresh ``csrf`` claim."""
        return claims if self.double_submit is None else self.double_submit.with_claim(claims)

    def set_headers(self, token: str, claims: Mapping[str, Any]) -> tuple[str, ...]:
        """The Set-Cookie values that store ``token`` (and, with double-submit, its csrf)."""
        login = self.cookies.set_header(token)
        csrf = self.double_submit.set_header(claims) if self.double_submit else None
        return (login,) if csrf is None else (login, csrf)

    def revocation(self, verified: Verified, revoked: Any, not_before: Any) -> Reason | None:
        """REVOKED when a hook said so (``is_revoked`` true, or issued before ``not_before``)."""
        if revoked:
            return Reason.REVOKED
        if isinstance(not_before, datetime):
            not_before = not_before.timestamp()  # a naive one is taken as local time
        if not_before is not None and verified.claims["iat"] < int(not_before):
            return Reason.REVOKED
        return None

    def state(
        self,
        checked: Checked,
        *,
        from_cookie: bool,
        user: Any = None,
        refused: Reason | None = None,
    ) -> AuthState:
        """The request's state once the token and the hooks have been heard."""
        verified, reason, token = checked
        if (
            refused is None
            and verified is not None
            and from_cookie
            and self.double_submit is not None
            and not self.double_submit.binds(verified.claims)
        ):
            refused = Reason.INVALID  # a login cookie that binds no csrf value cannot be trusted
        if refused is not None:
            reason = refused
        if verified is None or refused is not None:
            return AuthState(
                self,
                ANONYMOUS,
                reason=reason,
                delete_bad_cookie=from_cookie and token is not None,
                token_refused=token is not None,
            )
        renewal = None
        if from_cookie and token is not None and self.codec.should_renew(verified):
            renewal = (token, verified)
        return AuthState(
            self,
            verified.user if user is None else user,
            verified.claims,
            Reason.OK,
            renewal=renewal,
            credentials=verified.credentials,
        )

    def refuses_anonymous(self, path: str, state: AuthState) -> bool:
        """Whether a protected path answers 401 itself for this anonymous request."""
        if state.is_authenticated or not self.protected_paths:
            return False
        return any(_under(path, prefix) for prefix in self.protected_paths)


def _same_user(one: Verified, other: Verified) -> bool:
    """Same ``_id`` and ``sub``; tokens with neither must agree on all the user's claims."""
    identity = (one.claims.get("_id"), one.claims.get("sub"))
    if identity != (other.claims.get("_id"), other.claims.get("sub")):
        return False
    return identity != (None, None) or dict(one.user.claims) == dict(other.user.claims)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


async def maybe_await(value: Any) -> Any:
    """A hook's result, awaited when the hook was ``async def`` (ASGI only)."""
    if inspect.isawaitable(value):
        return await value
    return value


def is_async_hook(hook: object) -> bool:
    return hook is not None and (
        inspect.iscoroutinefunction(hook) or inspect.iscoroutinefunction(type(hook).__call__)
    )


AsyncHook = Callable[[Mapping[str, Any]], Awaitable[Any]]
