"""One immutable view of a request: the few things the policy reads, whatever the interface.

Each flavour builds it from what its server gives (an ASGI scope, a WSGI environ, Django's
``request.META``); the policy decides from it alone, so the flavours cannot read a request
differently. The path is the one the app routes on: an ASGI ``path`` may carry the
``root_path`` in front (uvicorn ``--root-path``, a Starlette ``Mount``, a2wsgi under a
``SCRIPT_NAME``), while routers match the path without it (Starlette's ``get_route_path``);
WSGI's ``PATH_INFO`` is already relative to ``SCRIPT_NAME``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple, cast

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class RequestView(NamedTuple):
    """Method, routed path, host and the headers the middleware reads; nothing else."""

    method: str
    path: str  # the path the app routes on
    host: str | None = None  # the Host header, else the server's own name and port
    cookie: str | None = None  # every Cookie header, joined with "; "
    authorization: str | None = None
    origin: str | None = None
    fetch_site: str | None = None  # Sec-Fetch-Site, stripped and lower-cased
    csrf_token: str | None = None  # X-CSRF-Token (double_submit)
    websocket: bool = False  # a WebSocket handshake: a GET no cross-site page may make

    @property
    def unsafe(self) -> bool:
        """Whether a cross-site page must not be able to make this request with the cookie."""
        return self.websocket or self.method not in SAFE_METHODS

    @classmethod
    def from_scope(cls, scope: Mapping[str, Any]) -> RequestView:
        """The view of an ASGI ``http`` or ``websocket`` scope (header names are lower-case)."""
        cookie = authorization = origin = fetch_site = host = csrf_token = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                text = value.decode("latin-1")
                cookie = text if cookie is None else f"{cookie}; {text}"
            elif name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"sec-fetch-site":
                fetch_site = value.decode("latin-1").strip().lower()
            elif name == b"host":
                host = value.decode("latin-1")
            elif name == b"x-csrf-token":
                csrf_token = value.decode("latin-1")
        websocket = scope["type"] == "websocket"
        path = scope["path"]
        root_path = scope.get("root_path")
        return _view(
            (
                "GET" if websocket else scope["method"],
                route_path(path, root_path) if root_path else path,
                host or _server_host(scope.get("server")),
                cookie,
                authorization,
                origin,
                fetch_site,
                csrf_token,
                websocket,
            )
        )

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> RequestView:
        """The view of a WSGI environ (PEP 3333), or of Django's ``request.META``."""
        fetch_site = environ.get("HTTP_SEC_FETCH_SITE")
        host = environ.get("HTTP_HOST")
        if not host and environ.get("SERVER_NAME") and environ.get("SERVER_PORT"):
            host = f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        return _view(
            (
                environ["REQUEST_METHOD"],
                environ.get("PATH_INFO") or "/",
                host or None,
                environ.get("HTTP_COOKIE") or None,
                environ.get("HTTP_AUTHORIZATION"),
                environ.get("HTTP_ORIGIN"),
                fetch_site.strip().lower() if fetch_site is not None else None,
                environ.get("HTTP_X_CSRF_TOKEN"),
                False,
            )
        )


# Built on every request: tuple.__new__ skips the generated, Python-level __new__ (the
# builders above pass every field, in order).
_view = cast("Callable[[tuple[Any, ...]], RequestView]", partial(tuple.__new__, RequestView))


def route_path(path: str, root_path: str) -> str:
    """``path`` less ``root_path`` where it starts with it at a ``/`` boundary."""
    if root_path and path.startswith(root_path) and path[len(root_path) :][:1] in ("", "/"):
        return path[len(root_path) :] or "/"
    return path


def _server_host(server: Any) -> str | None:
    if not server or server[1] is None:
        return None
    host, port = server
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
