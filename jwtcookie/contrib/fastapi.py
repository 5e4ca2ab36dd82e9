"""FastAPI: the login cookie as an OpenAPI security scheme, and typed dependencies.

Wrap the application once (``app.add_middleware(JWTCookieMiddleware, settings=settings)``);
these dependencies read what the middleware put in the scope, so they work in HTTP and
WebSocket routes alike, and they list the cookie in the OpenAPI document (the padlock in
``/docs``):

    @app.get("/me")
    def me(user: RequiredUser): ...          # 401 with WWW-Authenticate unless logged in

    @app.post("/login")
    def login(auth: Auth): auth.login({...})  # the response sets the cookie

``Auth``, ``CurrentUser`` and ``RequiredUser`` name the default cookie
(``__Host-access_token``). With another ``cookie_name``, make the scheme from your settings:
``scheme = JWTCookie(settings)`` and depend on ``scheme``, ``scheme.current_user`` or
``scheme.required_user``.
"""

# No `from __future__ import annotations`: older FastAPI (0.115, tested in the
# py311-starlette-oldest cell) looks up a dependency object's string annotations in no
# module's globals, and would take `connection` for a query parameter.
from typing import Annotated

from fastapi import Depends, HTTPException, Security, WebSocketException, status
from fastapi.openapi.models import APIKey, APIKeyIn
from fastapi.security.base import SecurityBase
from starlette.requests import HTTPConnection

from jwtcookie import access
from jwtcookie import auth as auth_module
from jwtcookie._request.responses import AUTHENTICATION_REQUIRED
from jwtcookie.settings import Settings, default_cookie_name
from jwtcookie.users import AnonymousUser, TokenUser

DESCRIPTION = (
    "The login cookie that jwtcookie sets at login (HttpOnly: a browser sends it, page "
    "scripts cannot read it). Other clients may send the same token in it."
)


class JWTCookie(SecurityBase):
    """The login cookie as a security scheme; as a dependency it gives the request's Auth."""

    def __init__(self, settings: Settings | None = None, *, scheme_name: str = "jwtcookie") -> None:
        self.cookie_name = (
            settings.cookie_name
            if settings is not None
            else default_cookie_name(secure=True, path="/", domain=None)
        )
        self.model = APIKey(
            **{"in": APIKeyIn.cookie},  # type: ignore[arg-type]  # `in` is a keyword: by name
            name=self.cookie_name,
            description=DESCRIPTION,
        )
        self.scheme_name = scheme_name
        scheme = self

        # async def, as the scheme: FastAPI would run a plain def in a thread on every request.
        async def current_user(
            auth: auth_module.Auth = Security(scheme),
        ) -> TokenUser | AnonymousUser:
            """The user, anonymous or not: check ``user.is_authenticated``."""
            return auth.user  # type: ignore[no-any-return]

        async def required_user(
            connection: HTTPConnection, auth: auth_module.Auth = Security(scheme)
        ) -> TokenUser:
            """The logged-in user; else 401 (HTTP) or closing with 1008 (WebSocket)."""
            if auth.is_authenticated:
                return auth.user  # type: ignore[no-any-return]
            if connection.scope["type"] == "websocket":
                raise WebSocketException(
                    code=status.WS_1008_POLICY_VIOLATION, reason=AUTHENTICATION_REQUIRED
                )
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail=AUTHENTICATION_REQUIRED,
                # RFC 9110 asks a 401 to name a challenge; cookies have no standard one.
                headers={"WWW-Authenticate": f'Cookie name="{scheme.cookie_name}"'},
            )

        self.current_user = current_user
        self.required_user = required_user

    async def __call__(self, connection: HTTPConnection) -> auth_module.Auth:
        return access.get_auth(connection.scope)


jwt_cookie = JWTCookie()


async def get_auth(connection: HTTPConnection) -> auth_module.Auth:
    """The request's :class:`~jwtcookie.Auth` (no scheme in OpenAPI: prefer ``Auth``)."""
    return access.get_auth(connection.scope)


current_user = jwt_cookie.current_user
require_user = jwt_cookie.required_user

Auth = Annotated[auth_module.Auth, Security(jwt_cookie)]
CurrentUser = Annotated[TokenUser | AnonymousUser, Depends(current_user)]
RequiredUser = Annotated[TokenUser, Depends(require_user)]
