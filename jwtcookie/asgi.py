"""The ASGI flavour: ``async def __call__``, so every server sees an ASGI 3 app; only I/O."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from jwtcookie.auth import ON_A_WEBSOCKET, SCOPE_AUTH, SCOPE_USER
from jwtcookie.middleware import JWTCookieMiddleware
from jwtcookie.policy import Call, Hearing, Refusal
from jwtcookie.request import RequestView
from jwtcookie.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

POLICY_VIOLATION = 1008  # websocket close code: the server refuses this connection


class ASGIMiddleware(JWTCookieMiddleware, interface="asgi"):
    """Injects ``scope["user"]`` and ``scope["auth"]``; adds the cookies as the response starts."""

    def _check(self, app: Any, settings: Settings) -> None:
        if settings.protected_paths and _django_script_name(app):
            raise ValueError(
                "jwtcookie: Django's ASGI application routes on the path less "
                "FORCE_SCRIPT_NAME, which a wrapper around it cannot see, so protected_paths "
                "would guard other paths than Django's; list "
                "'jwtcookie.contrib.django.JWTCookieMiddleware' in MIDDLEWARE and set "
                "protected_paths in its JWTCOOKIE setting instead."
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]  # half of the public overload
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)  # lifespan and unknown scopes pass untouched
            return
        policy = self._policy
        auth = policy.admit(RequestView.from_scope(scope))
        if isinstance(auth, Hearing):  # the app's hooks have a say: call or await each in turn
            call = auth.next_call()
            while call is not None:
                call = auth.answer(await _run(call))
            auth = policy.decide(auth)
        if isinstance(auth, Refusal):
            await _answer(kind, send, auth)
            return
        scope = {**scope, SCOPE_USER: auth.user, SCOPE_AUTH: auth}
        if kind == "websocket":
            auth.seal(ON_A_WEBSOCKET)  # the user is known; no cookie can go back
            await self.app(scope, receive, send)
            return

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                outgoing = auth.seal()
                revoking = policy.revoking(outgoing)
                if revoking is not None:  # a logout with a revocation store: revoke it first
                    await _run(revoking)
                if outgoing is not None:
                    headers = [
                        (n.decode("latin-1"), v.decode("latin-1"))
                        for n, v in message.get("headers", ())
                    ]
                    answered = policy.respond(outgoing, headers)
                    raw = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in answered]
                    message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_cookies)


async def _run(call: Call) -> Any:
    """Call a hook, awaiting it when it is ``async def`` (or its async twin, when it has one)."""
    answer = (call.async_hook or call.hook)(call.argument)
    if inspect.isawaitable(answer):
        answer = await answer
    return answer


async def _answer(kind: str, send: Send, refusal: Refusal) -> None:
    """Refuse before the app runs: a JSON answer, or closing a websocket before accepting it."""
    if kind == "websocket":
        await send({"type": "websocket.close", "code": POLICY_VIOLATION})
        return
    headers = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in refusal.headers]
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": refusal.body})


def _django_script_name(app: Any) -> str | None:
    """``FORCE_SCRIPT_NAME`` when ``app`` is Django's ASGI handler (Django is imported then)."""
    if type(app).__module__ != "django.core.handlers.asgi":
        return None
    conf = sys.modules.get("django.conf")
    return getattr(conf.settings, "FORCE_SCRIPT_NAME", None) if conf is not None else None
