"""Starlette: ``@login_required`` answering 401 on HTTP and closing WebSockets with 1008.

``request.user``, ``request.auth`` and ``@requires("authenticated")`` already work with the
middleware alone. ``@requires`` answers an anonymous HTTP request 403 and closes an
anonymous WebSocket with 1000 (a normal closure); this decorator gives the codes that say
"log in first": 401 JSON for HTTP, 1008 (policy violation) for a WebSocket, closed before
``accept()`` so the server refuses the handshake (uvicorn answers it 403).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.status import WS_1008_POLICY_VIOLATION
from starlette.websockets import WebSocket

from jwtcookie import access
from jwtcookie._request.responses import AUTHENTICATION_REQUIRED

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def login_required(endpoint: Endpoint) -> Endpoint:
    """Let only logged-in users through to ``endpoint`` (a request or WebSocket endpoint).

    The endpoint's ``Request`` or ``WebSocket`` is found among its arguments, so it works on
    functions and on ``HTTPEndpoint``/``WebSocketEndpoint`` methods.
    """
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            connection = _connection(args, kwargs)
            if access.get_auth(connection.scope).is_authenticated:
                return await endpoint(*args, **kwargs)
            if isinstance(connection, WebSocket):
                await connection.close(WS_1008_POLICY_VIOLATION, AUTHENTICATION_REQUIRED)
                return None
            return _unauthorized()

        return cast(Endpoint, async_wrapper)

    @functools.wraps(endpoint)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        connection = _connection(args, kwargs)
        if access.get_auth(connection.scope).is_authenticated:
            return endpoint(*args, **kwargs)
        return _unauthorized()

    return cast(Endpoint, wrapper)


def _connection(args: tuple[Any, ...], kwargs: dict[str, Any]) -> HTTPConnection:
    for value in (*args, *kwargs.values()):
        if isinstance(value, HTTPConnection):
            return value
    raise TypeError("jwtcookie: @login_required needs an endpoint taking a Request or WebSocket.")


def _unauthorized() -> JSONResponse:
    return JSONResponse({"error": AUTHENTICATION_REQUIRED}, status_code=401)
