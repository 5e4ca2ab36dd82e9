"""``JWTCookieMiddleware`` for ``settings.MIDDLEWARE``: the core's policy, inside Django.

It asks the core's policy about each request, as the core middleware does:
a refusal (a cross-site POST, an anonymous request to a protected path) is answered at once;
otherwise the request gets its :class:`~jwtcookie.Auth` (``get_auth(request)``), a lazy
``request.user`` and ``request.auser()``, and the response gets the cookies the core would
send, with the same attributes, and is kept out of shared caches.

Sync and async capable: Django builds it in the mode of the handler around it, so it never
costs a thread under ASGI. The app's hooks are called in that mode: under ASGI a plain
``def`` hook runs in a thread (``sync_to_async``), so it may use the ORM; under WSGI an
``async def`` hook runs through ``async_to_sync``.

A request the browser itself marks as coming from this very origin (``Sec-Fetch-Site:
same-origin``), or that comes from one of ``trusted_origins``, is one Django's
``CsrfViewMiddleware`` need not check again: the middleware says so the way Django's own
check does (``request.csrf_processing_done``). Every other request is checked by Django as
usual. docs/django.md explains why.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from functools import partial
from http.cookies import Morsel
from typing import Any

from asgiref.sync import async_to_sync, iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped, unused-ignore]
from django.http import HttpResponse  # type: ignore[import-untyped, unused-ignore]
from django.http.response import ResponseHeaders  # type: ignore[import-untyped, unused-ignore]
from django.utils.cache import patch_vary_headers  # type: ignore[import-untyped, unused-ignore]
from django.utils.functional import SimpleLazyObject  # type: ignore[import-untyped, unused-ignore]

from jwtcookie._request.hooks import HookCall, HookRound, run_async, run_sync
from jwtcookie._request.interface import is_async_callable
from jwtcookie._request.policy import Policy
from jwtcookie._request.responses import EarlyResponse
from jwtcookie._request.view import RequestView
from jwtcookie.auth import (
    ENVIRON_AUTH,
    ENVIRON_USER,
    SCOPE_AUTH,
    Auth,
    Outgoing,
    Renewal,
)
from jwtcookie.contrib.django.config import Problem, configuration
from jwtcookie.contrib.django.logins import keep_login, kept_by_django
from jwtcookie.contrib.django.users import ATTRIBUTE, RequestUser


class JWTCookieMiddleware:
    """Login from the JWT cookie for a Django project, configured by ``settings.JWTCOOKIE``.

    Put it right after ``django.contrib.auth.middleware.AuthenticationMiddleware`` (or
    anywhere, without it): a valid token's user then wins over the session's.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)  # Django then awaits __call__, which hands to __acall__
        try:
            config = configuration()
        except Problem as problem:
            raise ImproperlyConfigured(f"jwtcookie: {problem}") from None
        settings = config.settings
        self._policy = Policy(settings)
        self._responses = self._policy.responses
        self._user_model = config.user_model
        self._bearer = settings.bearer

    def __call__(self, request: Any) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return run_sync(self._handle(request), _call_in_sync_mode)

    async def __acall__(self, request: Any) -> Any:
        return await run_async(self._handle(request), _call_in_async_mode)

    def _handle(self, request: Any) -> HookRound[Any]:
        """One request, in either mode: it yields each call that differs between them (the
        hooks, the view, the user's lookup, a revocation) for the mode's driver to make."""
        view = request_view(request)
        outer = _outer_auth(request)
        if outer is not None:  # the project also wraps its WSGI app: that one sends the cookies
            self._enter(request, view, outer)
            return (yield HookCall(self.get_response, request))
        outcome = self._policy.admit(view)
        if not isinstance(outcome, (Auth, EarlyResponse)):
            outcome = yield from outcome
        if isinstance(outcome, EarlyResponse):
            return django_response(outcome)
        request_user = self._enter(request, view, outcome)
        if self._row_decides(view, request_user) and (yield _lookup(request_user)) is None:
            return django_response(self._responses.rejected_user(request_user.auth))
        response = yield HookCall(self.get_response, request)
        changed = request_user.password_changed()
        if changed is not None and (yield HookCall(partial(kept_by_django, request), changed)):
            keep_login(request, changed)
        outgoing = request_user.auth.take_outgoing()
        if self._user_model and type(outgoing) is Renewal:
            yield _lookup(request_user)  # never renew the cookie of a user deleted or deactivated
        outgoing = _unless_gone(request_user, outgoing)
        revoking = self._responses.revoking(outgoing)
        if revoking is not None:
            yield revoking
        return self._leave(request_user, outgoing, response)

    def _enter(self, request: Any, view: RequestView, auth: Auth) -> RequestUser:
        """Put the Auth and a lazy ``request.user`` in the request; tell Django's CSRF check
        when the policy already checked the request (``csrf_already_checked``)."""
        request.META[ENVIRON_AUTH] = auth
        request.META[ENVIRON_USER] = auth.user
        csrf_checked = self._policy.csrf_already_checked(view)
        from_cookie = not self._policy.reader.reads_bearer(view)
        if csrf_checked or (not from_cookie and auth.is_authenticated):
            # As CsrfViewMiddleware marks what it accepted. A valid Bearer token is no
            # ambient credential: a cross-site form cannot send the header (DRF's rule too).
            request.csrf_processing_done = True
        previous = getattr(request, "user", None)
        request_user = RequestUser(
            auth,
            user_model=self._user_model,
            from_cookie=from_cookie,
            csrf_checked=csrf_checked,
            bearer=self._bearer,
            previous=previous,
            previous_auser=getattr(request, "auser", None),
        )
        setattr(request, ATTRIBUTE, request_user)
        if auth.is_authenticated or previous is None:
            request.user = SimpleLazyObject(request_user.user)
        if auth.is_authenticated or not hasattr(request, "auser"):  # Django < 5.0 sets none
            request.auser = request_user.auser
        return request_user

    def _row_decides(self, view: RequestView, request_user: RequestUser) -> bool:
        """With ``user_model``, a protected path admits a valid token only if its user is
        still there and active: the row is read before the view, not lazily."""
        return (
            self._user_model
            and request_user.auth.is_authenticated
            and self._policy.requires_login(view)
        )

    def _leave(self, request_user: RequestUser, outgoing: Outgoing, response: Any) -> Any:
        """The response with the core's cookies and cache headers; Django keeps cookies apart
        from the other headers, in ``response.cookies``."""
        if outgoing is not None:
            own = [("Set-Cookie", morsel.OutputString()) for morsel in response.cookies.values()]
            written = self._responses.cookies_and_headers(outgoing, [*response.items(), *own])
            if written.set_cookies:
                response.headers = ResponseHeaders([h for h in written.headers if h not in own])
                add_cookies(response, written.set_cookies)
        if request_user.read:
            patch_vary_headers(response, ("Cookie",))  # as SessionMiddleware does
        return response


def _lookup(request_user: RequestUser) -> HookCall:
    """The token's user, read with the async ORM in async mode."""
    return HookCall(RequestUser.token_user, request_user, RequestUser.atoken_user)


def _unless_gone(request_user: RequestUser, outgoing: Outgoing) -> Outgoing:
    """What the response carries once the view ran: a user found deleted or deactivated has
    the cookie that held its token deleted (as ``load_user`` answering None would), never
    renewed; the core decides (a Bearer token's, or a cross-site request's, deletes none)."""
    return request_user.auth.refusing_the_user(outgoing) if request_user.gone else outgoing


def request_view(request: Any) -> RequestView:
    """The policy's view of a Django request, on the path Django routes on (``path_info``).

    Under ASGI ``path_info`` is the scope's path less ``FORCE_SCRIPT_NAME``, which wins over
    the scope's ``root_path``: behind a proxy that passes the prefix on, the scope's path and
    root path alone would name another route. The headers are the scope's own: Django's
    ``META`` joins repeated headers with ``,`` (HTTP/2 sends one Cookie header per cookie),
    which is not how cookies are separated.
    """
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and scope.get("type") == "http":
        return RequestView.from_scope(scope, request.path_info)
    return RequestView.from_environ(request.META, request.path_info)


def django_response(refusal: EarlyResponse) -> HttpResponse:
    """The core's refusal (403 cross-site, 401 protected path) as a Django response."""
    response = HttpResponse(refusal.body, status=refusal.status)
    cookies = []
    for name, value in refusal.headers:
        if name.lower() == "set-cookie":
            cookies.append(value)
        else:
            response[name] = value
    add_cookies(response, cookies)
    return response


class SetCookie(Morsel[str]):
    """A cookie Django sends as exactly the ``Set-Cookie`` value the core would send.

    Django keeps cookies as morsels and writes each with ``OutputString()``. This one writes
    the core's value as it is (``Partitioned``, which ``http.cookies`` knows only from
    Python 3.14 on, included), and still carries the name, value and attributes, so the test
    client's cookie jar and code reading ``response.cookies`` see a cookie like any other.
    """

    def __init__(self, header: str) -> None:
        super().__init__()
        name, _, rest = header.partition("=")
        value, *attributes = rest.split(";")
        self.set(name, value, value)
        for attribute in attributes:
            key, equals, setting = attribute.strip().partition("=")
            if key.lower() in self._reserved:  # type: ignore[attr-defined]  # http.cookies' own table
                self[key.lower()] = setting if equals else True
        self.header = header

    def OutputString(self, attrs: Container[str] | None = None) -> str:
        return self.header

    def copy(self) -> SetCookie:
        return SetCookie(self.header)

    def __reduce__(self) -> tuple[type[SetCookie], tuple[str]]:
        return SetCookie, (self.header,)


def add_cookies(response: Any, values: Iterable[str]) -> None:
    for value in values:
        cookie = SetCookie(value)
        response.cookies[cookie.key] = cookie


def _outer_auth(request: Any) -> Auth | None:
    """The Auth of the core middleware, when the project also wraps Django's WSGI/ASGI app."""
    scope = getattr(request, "scope", None)
    found = scope.get(SCOPE_AUTH) if isinstance(scope, dict) else request.META.get(ENVIRON_AUTH)
    return found if isinstance(found, Auth) else None


def _call_in_sync_mode(call: HookCall) -> Any:
    """Make one of the request's calls in sync mode; an ``async def`` hook runs through
    ``async_to_sync``."""
    if _is_async(call.hook):
        return async_to_sync(call.hook)(call.argument)
    return call.hook(call.argument)


async def _call_in_async_mode(call: HookCall) -> Any:
    """Make one of the request's calls in async mode: an async twin or an ``async def`` one is
    awaited; a plain one (which may use the ORM) runs in a thread through ``sync_to_async``,
    never in the loop."""
    if call.async_hook is not None:
        return await call.async_hook(call.argument)
    if _is_async(call.hook):
        return await call.hook(call.argument)
    return await sync_to_async(call.hook)(call.argument)


def _is_async(hook: Any) -> bool:
    """The core's test, plus asgiref's mark (``markcoroutinefunction``), which Django uses."""
    return is_async_callable(hook) or iscoroutinefunction(hook)
