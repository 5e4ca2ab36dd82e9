"""Who a request is, in Django's terms: ``request.user`` and ``await request.auser()``.

A valid token makes the request's user one of:

- what ``load_user`` returned, when that hook is set;
- with ``"user_model": True``, the active row of ``get_user_model()`` whose primary key is
  the token's ``sub`` (or ``_id``): looked up when a view first reads the user, once per
  request, with the async ORM under ``await request.auser()``. A token that carries
  ``auth_hash`` (``login(request, user)`` signs it) names the user's password as it was then:
  once the password changed, the row no longer matches it, as Django's sessions keep the
  session auth hash and end when it no longer matches;
- otherwise a :class:`DjangoTokenUser` made from the claims, with no database at all.

Without one (or when the row is gone or inactive) the user is what it would be without
jwtcookie: the session's user when ``AuthenticationMiddleware`` ran first, else Django's
``AnonymousUser``. ``django.contrib.auth.models`` is imported only when a user is needed:
this module is imported while Django loads its apps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model  # type: ignore[import-untyped, unused-ignore]
from django.core.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    ImproperlyConfigured,
    ValidationError,
)
from django.utils.crypto import constant_time_compare  # type: ignore[import-untyped, unused-ignore]

from jwtcookie.auth import Auth
from jwtcookie.users import TokenUser

_NOT_LOOKED_UP: Any = object()  # a RequestUser's user (and password) before its lookup
LOOK_UP_AGAIN: Any = object()  # RequestUser.set_user(LOOK_UP_AGAIN): from the new claims, again
ATTRIBUTE = "_jwtcookie"  # where the middleware leaves each request's RequestUser
AUTH_HASH = "auth_hash"  # the claim naming the password a token was signed for


class DjangoTokenUser:
    """A logged-in user made from the token's claims, as Django's views, templates and admin
    expect one (``is_authenticated``, ``get_username()``, ``pk``, permissions, ...).

    It lives in no database: it is never staff nor superuser and has no permissions (those
    come from rows: set ``"user_model": True``). ``pk`` and ``id`` are the token's ``sub``
    (or ``_id``) as a string; ``username`` is the ``username`` claim, else that id; every claim
    of the user is in ``claims``. Unlike :class:`jwtcookie.TokenUser` it is not a mapping: a
    template's ``{{ user.is_staff }}`` looks in a mapping's keys first, and a claim must not
    answer for an attribute.
    """

    __slots__ = ("_user",)

    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False
    is_authenticated = True

    def __init__(self, claims: Mapping[str, Any]) -> None:
        self._user = TokenUser(claims)

    @property
    def pk(self) -> str:
        return self._user.identity

    id = pk
    identity = pk

    @property
    def username(self) -> str:
        return self._user.display_name

    display_name = username

    @property
    def claims(self) -> Mapping[str, Any]:
        """The user's own claims (``iat``, ``exp``, ``sub`` and other registered ones left out)."""
        return self._user.claims

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username

    def __repr__(self) -> str:
        return f"DjangoTokenUser(pk={self.pk!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DjangoTokenUser) and other.pk == self.pk

    def __hash__(self) -> int:
        return hash(self.pk)

    # Permissions, as django.contrib.auth.models.AnonymousUser answers them: none.

    @property
    def groups(self) -> Any:
        from django.contrib.auth.models import Group  # type: ignore[import-untyped, unused-ignore]
        from django.db.models.manager import EmptyManager  # type: ignore[import-untyped, unused-ignore]

        return EmptyManager(Group)

    @property
    def user_permissions(self) -> Any:
        from django.contrib.auth.models import Permission  # type: ignore[import-untyped, unused-ignore]
        from django.db.models.manager import EmptyManager  # type: ignore[import-untyped, unused-ignore]

        return EmptyManager(Permission)

    def get_user_permissions(self, obj: object = None) -> set[str]:
        return set()

    def get_group_permissions(self, obj: object = None) -> set[str]:
        return set()

    def get_all_permissions(self, obj: object = None) -> set[str]:
        return set()

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return False

    def has_perms(self, perm_list: Iterable[str], obj: object = None) -> bool:
        if isinstance(perm_list, str) or not isinstance(perm_list, Iterable):
            raise ValueError("perm_list must be an iterable of permissions.")
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, module: str) -> bool:
        return False

    def save(self) -> None:
        raise NotImplementedError("A DjangoTokenUser lives in a token, not in the database.")

    def delete(self) -> None:
        raise NotImplementedError("A DjangoTokenUser lives in a token, not in the database.")

    def set_password(self, raw_password: str) -> None:
        raise NotImplementedError("A DjangoTokenUser lives in a token, not in the database.")

    def check_password(self, raw_password: str) -> bool:
        raise NotImplementedError("A DjangoTokenUser lives in a token, not in the database.")


def anonymous_user() -> Any:
    from django.contrib.auth.models import AnonymousUser  # type: ignore[import-untyped, unused-ignore]

    return AnonymousUser()


class RequestUser:
    """One request's user, worked out on first use and kept: one query at most.

    ``token_user()`` is the token's user or None (what DRF and Ninja authenticate with);
    ``user()`` falls back to the user the request would have without jwtcookie.
    """

    __slots__ = (
        "_found",
        "_password_read",
        "_previous",
        "_previous_auser",
        "_user_model",
        "auth",
        "bearer",
        "csrf_checked",
        "from_cookie",
        "read",
    )

    def __init__(
        self,
        auth: Auth,
        *,
        user_model: bool,
        from_cookie: bool,
        csrf_checked: bool,
        bearer: bool = False,
        previous: Any = None,
        previous_auser: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        self.auth = auth
        self.from_cookie = from_cookie  # the token came in the cookie, not a Bearer header
        self.csrf_checked = csrf_checked
        self.bearer = bearer
        self.read = False  # a view read the user: the response varies with the Cookie
        self._user_model = user_model
        self._previous = previous
        self._previous_auser = previous_auser
        self._found: Any = _NOT_LOOKED_UP
        self._password_read: Any = _NOT_LOOKED_UP  # the row's password field as the lookup read it

    @property
    def gone(self) -> bool:
        """The token is valid, but the user it names was looked up and is gone or inactive."""
        return self._found is None and self.auth.is_authenticated

    def set_user(self, user: Any) -> None:
        """After a login in the view: ``user`` is the user now (or ``LOOK_UP_AGAIN``)."""
        self._found = _NOT_LOOKED_UP if user is LOOK_UP_AGAIN else user
        self._password_read = _NOT_LOOKED_UP

    def token_user(self) -> Any:
        """The token's user, or None."""
        self.read = True
        if self._found is _NOT_LOOKED_UP:
            identity = self._identity()
            self._found = (
                _lookup(identity, self.auth.claims) if identity is not None else self._from_token()
            )
            self._password_read = getattr(self._found, "password", None)
        return self._found

    async def atoken_user(self) -> Any:
        """The token's user, or None; the database is read with the async ORM."""
        self.read = True
        if self._found is _NOT_LOOKED_UP:
            identity = self._identity()
            self._found = (
                await _alookup(identity, self.auth.claims)
                if identity is not None
                else self._from_token()
            )
            self._password_read = getattr(self._found, "password", None)
        return self._found

    def user(self) -> Any:
        """``request.user``: the token's user, else the session's, else ``AnonymousUser``."""
        user = self.token_user()
        if user is not None:
            return user
        return self._previous if self._previous is not None else anonymous_user()

    async def auser(self) -> Any:
        """``await request.auser()``: :meth:`user` for async views."""
        user = await self.atoken_user()
        if user is not None:
            return user
        if self._previous_auser is not None:
            return await self._previous_auser()
        if self._previous is not None:
            return await sync_to_async(_loaded)(self._previous)
        return anonymous_user()

    def _identity(self) -> str | None:
        """The primary key to look up, when the user comes from the database."""
        if not self._user_model or not self.auth.is_authenticated:
            return None
        return str(self.auth.user.identity)

    def password_changed(self) -> Any:
        """The row read for this request, when the view changed its password since the token
        was signed (``set_password``): the token no longer matches it; else None."""
        found = self._found
        if found is _NOT_LOOKED_UP or found is None or not self._user_model:
            return None
        if getattr(found, "password", None) == self._password_read:
            return None  # untouched since the lookup checked it: no hash to work out
        claimed = self.auth.claims.get(AUTH_HASH)
        if claimed is None or same_password(found, claimed):
            return None
        return found

    def _from_token(self) -> Any:
        auth = self.auth
        if not auth.is_authenticated:
            return None
        user = auth.user
        return DjangoTokenUser(auth.claims) if isinstance(user, TokenUser) else user


def auth_hash(user: Any) -> str | None:
    """What a token signed for ``user`` carries as ``auth_hash``: a digest of Django's session
    auth hash (an HMAC of the password hash under ``SECRET_KEY``), never the hash itself."""
    session_auth_hash = getattr(user, "get_session_auth_hash", None)
    return _digest(session_auth_hash()) if session_auth_hash is not None else None


def same_password(user: Any, claimed: Any) -> bool:
    """Whether ``claimed`` (a token's ``auth_hash``) names ``user``'s password as it is now,
    under ``SECRET_KEY`` or one of ``SECRET_KEY_FALLBACKS``, as Django's ``get_user`` checks a
    session."""
    if not hasattr(user, "get_session_auth_hash"):
        return True
    if not isinstance(claimed, str):
        return False
    if constant_time_compare(claimed, _digest(user.get_session_auth_hash())):
        return True
    fallbacks: Iterable[str] = getattr(user, "get_session_auth_fallback_hash", tuple)()
    return any(constant_time_compare(claimed, _digest(fallback)) for fallback in fallbacks)


def _digest(session_auth_hash: str) -> str:
    return hashlib.sha256(session_auth_hash.encode()).hexdigest()[:32]


def _lookup(identity: str, claims: Mapping[str, Any]) -> Any:
    model = get_user_model()
    try:
        user = model._default_manager.get(pk=identity)
    except (model.DoesNotExist, ValueError, TypeError, ValidationError):
        return None
    return user if _still_logged_in(user, claims) else None


async def _alookup(identity: str, claims: Mapping[str, Any]) -> Any:
    model = get_user_model()
    try:
        user = await model._default_manager.aget(pk=identity)
    except (model.DoesNotExist, ValueError, TypeError, ValidationError):
        return None
    return user if _still_logged_in(user, claims) else None


def _still_logged_in(user: Any, claims: Mapping[str, Any]) -> bool:
    """Active, and with the password the token was signed for, if it names one."""
    if not getattr(user, "is_active", True):
        return False
    return AUTH_HASH not in claims or same_password(user, claims[AUTH_HASH])


def _loaded(user: Any) -> Any:
    """``user`` with its lazy value worked out (the session's user reads the database)."""
    user.is_authenticated  # noqa: B018
    return user


def request_user(request: Any) -> RequestUser:
    """The :class:`RequestUser` the middleware left on a Django ``HttpRequest``."""
    found = getattr(request, ATTRIBUTE, None)
    if not isinstance(found, RequestUser):
        raise ImproperlyConfigured(
            "jwtcookie: this request did not pass through "
            "jwtcookie.contrib.django.JWTCookieMiddleware; add it to settings.MIDDLEWARE, "
            "after django.contrib.auth.middleware.AuthenticationMiddleware."
        )
    return found
