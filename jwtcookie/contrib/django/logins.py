"""``login(request, user)`` and ``logout(request)``, Django's own spelling, for the JWT cookie.

``login`` signs a token for a ``User`` (``sub`` is its primary key, ``username`` its
``get_username()``) or for claims you choose, and the response sets the cookie; like
``django.contrib.auth.login`` it rotates the CSRF token, sets ``request.user`` and sends
``user_logged_in`` for a ``User`` (so ``last_login`` is kept). ``logout`` deletes the cookie,
ends a Django session login too if the request has one, and sends ``user_logged_out``; the
app config connects that signal back, so Django's own logout (the admin's, ``LogoutView``)
deletes the cookie as well. ``force_login`` logs a test client in without a password.

A token signed for a ``User`` carries ``auth_hash``, which names the password it was signed
for: once the password changes, ``user_model`` refuses it, as Django ends the sessions.
``update_session_auth_hash(request, user)`` keeps the login that changed it, as Django's keeps
that session; Django's own (its ``PasswordChangeView``, the admin's) keeps it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import (  # type: ignore[import-untyped, unused-ignore]
    HASH_SESSION_KEY,
    SESSION_KEY,
)
from django.contrib.auth import logout as django_logout  # type: ignore[import-untyped, unused-ignore]
from django.contrib.auth import (  # type: ignore[import-untyped, unused-ignore]
    update_session_auth_hash as django_update_session_auth_hash,
)
from django.contrib.auth.signals import (  # type: ignore[import-untyped, unused-ignore]
    user_logged_in,
    user_logged_out,
)
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped, unused-ignore]
from django.middleware.csrf import rotate_token  # type: ignore[import-untyped, unused-ignore]
from django.utils.functional import SimpleLazyObject  # type: ignore[import-untyped, unused-ignore]

from jwtcookie import access
from jwtcookie._request.policy import Policy
from jwtcookie.auth import Auth
from jwtcookie.contrib.django.config import Problem, configuration
from jwtcookie.contrib.django.users import (
    ATTRIBUTE,
    AUTH_HASH,
    LOOK_UP_AGAIN,
    DjangoTokenUser,
    RequestUser,
    anonymous_user,
    auth_hash,
)


def user_claims(user: Any) -> dict[str, Any]:
    """The claims ``login`` signs for a user object: ``sub`` (its pk), ``username`` and, for a
    user with a password, ``auth_hash``."""
    claims = {"sub": str(user.pk), "username": user.get_username()}
    password = auth_hash(user)
    if password is not None:
        claims[AUTH_HASH] = password
    return claims


def login(request: Any, user_or_claims: Any) -> str:
    """Log ``request`` in as a ``User`` (or as the given claims); the response sets the cookie.

    Returns the token, for a client that wants it in the body too.
    """
    auth = _auth(request)
    is_user = not isinstance(user_or_claims, Mapping)
    token = auth.login(user_claims(user_or_claims) if is_user else user_or_claims)
    rotate_token(request)  # as django.contrib.auth.login does: no CSRF token from before
    request_user = getattr(request, ATTRIBUTE, None)
    if isinstance(request_user, RequestUser):
        request_user.set_user(user_or_claims if is_user else LOOK_UP_AGAIN)
        request.user = SimpleLazyObject(request_user.user)
        request.auser = request_user.auser
    else:
        request.user = user_or_claims if is_user else DjangoTokenUser(auth.claims)
    if is_user:
        user_logged_in.send(sender=type(user_or_claims), request=request, user=user_or_claims)
    return token


def logout(request: Any) -> None:
    """Log ``request`` out: the response deletes the cookie; a session login ends too."""
    auth = _auth(request)
    user = getattr(request, "user", None)
    auth.logout()
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:
        django_logout(request)
    else:
        if not getattr(user, "is_authenticated", False):
            user = None
        sender = type(user) if user is not None else None
        user_logged_out.send(sender=sender, request=request, user=user)
    request.user = anonymous_user()
    request.auser = _anonymous_auser


def update_session_auth_hash(request: Any, user: Any) -> None:
    """After ``user``'s password changed: keep this request's login; the others end.

    Call it where Django's own is called, right after saving the new password. When the
    token logs the request in as ``user``, the response carries a token signed for the new
    password; a session login is kept by Django's ``update_session_auth_hash``, called too.
    An administrator changing someone else's password keeps their own login as it was.
    """
    if getattr(request, "session", None) is not None:
        django_update_session_auth_hash(request, user)
    keep_login(request, user)


async def aupdate_session_auth_hash(request: Any, user: Any) -> None:
    """:func:`update_session_auth_hash` for async views (a session is saved to the database)."""
    await sync_to_async(update_session_auth_hash)(request, user)


def keep_login(request: Any, user: Any) -> None:
    """Sign this request's login again for ``user`` as it is now, if the token names them."""
    auth = _auth(request)
    if not auth.is_authenticated or str(auth.user.identity) != str(user.pk):
        return
    auth.login(user_claims(user))
    request_user = getattr(request, ATTRIBUTE, None)
    if isinstance(request_user, RequestUser):
        request_user.set_user(user)


def kept_by_django(request: Any, user: Any) -> bool:
    """Whether Django's own ``update_session_auth_hash(request, user)`` ran in this request:
    it leaves ``user``'s new session auth hash in the session."""
    session = getattr(request, "session", None)
    if session is None:
        return False
    return bool(session.get(HASH_SESSION_KEY) == user.get_session_auth_hash())


async def alogin(request: Any, user_or_claims: Any) -> str:
    """:func:`login` for async views (``user_logged_in`` receivers may write to the database)."""
    token: str = await sync_to_async(login)(request, user_or_claims)
    return token


async def alogout(request: Any) -> None:
    """:func:`logout` for async views (ending a session login writes to the database)."""
    await sync_to_async(logout)(request)


def force_login(client: Any, user_or_claims: Any) -> str:
    """Log a ``django.test.Client`` (or ``AsyncClient``, DRF's ``APIClient``) in: its cookie
    jar gets the cookie(s) ``login`` would set, signed with ``settings.JWTCOOKIE``.

    Like ``Client.force_login``, no password round trip; ``client.logout()`` forgets it.
    Returns the token.
    """
    try:
        policy = Policy(configuration().settings)
    except Problem as problem:
        raise ImproperlyConfigured(f"jwtcookie: {problem}") from None
    is_user = not isinstance(user_or_claims, Mapping)
    signed = policy.responses.signer.sign(
        user_claims(user_or_claims) if is_user else user_or_claims
    )
    for header in policy.responses.set_cookie_values(signed, ()):
        name, _, rest = header.partition("=")
        client.cookies[name] = rest.split(";", 1)[0]
    return signed.token


def end_token_login(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """``user_logged_out`` receiver: Django's own logout deletes the JWT cookie too."""
    if request is None:
        return
    try:
        auth = access.get_auth(request)
    except LookupError:
        return  # a request jwtcookie never saw, such as the test client's logout()
    if auth.is_authenticated:
        auth.logout()


async def _anonymous_auser() -> Any:
    return anonymous_user()


def _auth(request: Any) -> Auth:
    try:
        return access.get_auth(request)
    except LookupError:
        raise ImproperlyConfigured(
            "jwtcookie: this request did not pass through "
            "jwtcookie.contrib.django.JWTCookieMiddleware; add it to settings.MIDDLEWARE."
        ) from None
