"""The WSGI flavour: a plain ``def __call__(environ, start_response)``; it only does I/O."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from jwtcookie.auth import ENVIRON_AUTH, ENVIRON_USER
from jwtcookie.middleware import JWTCookieMiddleware
from jwtcookie.policy import Hearing, Refusal
from jwtcookie.request import RequestView
from jwtcookie.settings import Settings

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


class WSGIMiddleware(JWTCookieMiddleware, interface="wsgi"):
    """Sets ``environ["jwtcookie.user"]`` and ``environ["jwtcookie.auth"]``."""

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:  # type: ignore[override]  # half of the public overload
        policy = self._policy
        auth = policy.admit(RequestView.from_environ(environ))
        if isinstance(auth, Hearing):  # the app's hooks have a say: call each in turn
            call = auth.next_call()
            while call is not None:
                call = auth.answer(call.hook(call.argument))
            auth = policy.decide(auth)
        if isinstance(auth, Refusal):
            return _answer(start_response, auth)
        environ[ENVIRON_USER] = auth.user
        environ[ENVIRON_AUTH] = auth

        def start_response_with_cookies(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            outgoing = auth.seal()
            revoking = policy.revoking(outgoing)
            if revoking is not None:  # a logout with a revocation store: revoke it first
                revoking.hook(revoking.argument)
            if outgoing is not None:
                headers = policy.respond(outgoing, headers)
            return start_response(status, headers, exc_info)

        result = self.app(environ, start_response_with_cookies)
        if type(result) is not list and inspect.isawaitable(result):  # a list is the usual case
            if hasattr(result, "close"):
                result.close()
            raise TypeError(
                "jwtcookie: the wrapped app returned an awaitable, so it is an ASGI app that "
                "detection could not see; pass interface='asgi'."
            )
        return result

    def _check(self, app: Any, settings: Settings) -> None:
        if settings.async_hooks():
            raise TypeError(
                f"jwtcookie: a WSGI app cannot await an `async def` hook "
                f"({', '.join(settings.async_hooks())}); pass a plain function."
            )


def _answer(start_response: StartResponse, refusal: Refusal) -> list[bytes]:
    start_response(f"{refusal.status} {HTTPStatus(refusal.status).phrase}", list(refusal.headers))
    return [refusal.body]
