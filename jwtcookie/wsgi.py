"""The WSGI flavour: a plain ``def __call__(environ, start_response)``."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from jwtcookie.caching import PRIVATE, private_cache_control
from jwtcookie.double_submit import error_body
from jwtcookie.engine import REFUSED_ANONYMOUS, REFUSED_CROSS_SITE, is_async_hook
from jwtcookie.middleware import JWTCookieMiddleware
from jwtcookie.origin import SAFE_METHODS
from jwtcookie.state import EMPTY_CLAIMS, AuthState, Reason
from jwtcookie.tokens import Verified

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

USER_KEY = "jwtcookie.user"
CLAIMS_KEY = "jwtcookie.claims"
STATE_KEY = "jwtcookie.state"
_NO_TOKEN = (None, Reason.MISSING, None)


class WSGIMiddleware(JWTCookieMiddleware):
    """Sets ``environ["jwtcookie.user"]``, ``["jwtcookie.claims"]``, ``["jwtcookie.state"]``."""

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:  # type: ignore[override]  # half of the public overload
        engine = self.engine
        method = environ["REQUEST_METHOD"]
        if (
            engine.guard is not None
            and method not in SAFE_METHODS
            and not engine.guard.allows(
                method,
                sec_fetch_site=_lower(environ.get("HTTP_SEC_FETCH_SITE")),
                origin=environ.get("HTTP_ORIGIN"),
                host=environ.get("HTTP_HOST") or _server_host(environ),
            )
        ):
            return _json(start_response, "403 Forbidden", REFUSED_CROSS_SITE)
        state, from_cookie = self._authenticate(environ)
        if state.token_refused and engine.on_error is not None:
            engine.on_error(state.reason)
        csrf = engine.double_submit
        if csrf is not None and method not in SAFE_METHODS:
            sent = environ.get("HTTP_X_CSRF_TOKEN")
            claims = state.claims if from_cookie else EMPTY_CLAIMS
            refusal = csrf.refusal(environ.get("HTTP_COOKIE"), sent, claims)
            if refusal:
                return _json(start_response, "403 Forbidden", error_body(refusal))
        environ[USER_KEY] = state.user
        environ[CLAIMS_KEY] = state.claims
        environ[STATE_KEY] = state
        if engine.refuses_anonymous(environ.get("PATH_INFO", ""), state):
            cookies = state.response_cookies(_no)
            return _json(start_response, "401 Unauthorized", REFUSED_ANONYMOUS, cookies)
        prefix = engine.cookies.prefix

        def start_response_with_cookie(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            values = state.response_cookies(lambda: _sets_cookie(headers, prefix))
            if values:
                headers = [*_kept_from_shared_caches(headers), *_set_cookies(values)]
            return start_response(status, headers, exc_info)

        result = self.app(environ, start_response_with_cookie)
        if type(result) is not list and inspect.isawaitable(result):  # a list is the usual case
            if hasattr(result, "close"):
                result.close()
            raise TypeError(
                "jwtcookie: the wrapped app returned an awaitable, so it is an ASGI app that "
                "detection could not see; pass interface='asgi'."
            )
        return result

    def _check_hooks(self, *hooks: object) -> None:
        for hook in hooks:
            if is_async_hook(hook):
                raise TypeError(
                    "jwtcookie: a WSGI app cannot await an `async def` hook; pass a plain function."
                )

    def _authenticate(self, environ: Environ) -> tuple[AuthState, bool]:
        """The request's state, and whether its token came from the cookie."""
        engine = self.engine
        bearer = engine.bearer_token(environ.get("HTTP_AUTHORIZATION"))
        cookie = environ.get("HTTP_COOKIE")
        if bearer is not None:
            checked, from_cookie = engine.check_token(bearer), False
        elif cookie:
            checked, from_cookie = engine.check(cookie), True
        else:
            return engine.state(_NO_TOKEN, from_cookie=True), True
        verified = checked[0]
        if verified is None or not engine.has_hooks:
            return engine.state(checked, from_cookie=from_cookie), from_cookie
        refused, user = self._hear_hooks(verified)
        state = engine.state(checked, from_cookie=from_cookie, user=user, refused=refused)
        return state, from_cookie

    def _hear_hooks(self, verified: Verified) -> tuple[Reason | None, Any]:
        engine, claims = self.engine, verified.claims
        revoked = engine.is_revoked(claims) if engine.is_revoked else False
        not_before = engine.user_not_before(claims) if engine.user_not_before else None
        refused = engine.revocation(verified, revoked, not_before)
        if refused is not None or engine.load_user is None:
            return refused, None
        user = engine.load_user(claims)
        return (Reason.REJECTED, None) if user is None else (None, user)


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value is not None else None


def _server_host(environ: Environ) -> str | None:
    name, port = environ.get("SERVER_NAME"), environ.get("SERVER_PORT")
    return f"{name}:{port}" if name and port else None


def _sets_cookie(headers: Iterable[tuple[str, str]], prefix: str) -> bool:
    return any(
        name.lower() == "set-cookie" and value.lstrip().startswith(prefix)
        for name, value in headers
    )


def _kept_from_shared_caches(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    cache_controls = [value for name, value in headers if name.lower() == "cache-control"]
    private = private_cache_control(cache_controls)
    if private is None:
        return headers
    kept = [(name, value) for name, value in headers if name.lower() != "cache-control"]
    return [*kept, ("Cache-Control", private)]


def _set_cookies(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [("Set-Cookie", value) for value in values]


def _no() -> bool:
    return False


def _json(
    start_response: StartResponse, status: str, body: bytes, set_cookies: tuple[str, ...] = ()
) -> list[bytes]:
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if set_cookies:
        headers += [("Cache-Control", PRIVATE), *_set_cookies(set_cookies)]
    start_response(status, headers)
    return [body]
