"""One immutable view of a request: the few things the policy reads, whatever the interface.

Each flavour builds it from what its server gives (an ASGI scope, a WSGI environ, Django's
``request.META``); the policy decides from it alone, so the flavours cannot read a request
differently. The path is the one the app routes on: an ASGI ``path`` may carry the
``root_path`` in front (uvicorn ``--root-path``, a Starlette ``Mount``, a2wsgi under a
``SCRIPT_NAME``), while routers match the path without it (Starlette's ``get_route_path``);
WSGI's ``PATH_INFO`` is already relative to ``SCRIPT_NAME``, and carries the path's bytes as
latin-1 (PEP 3333), which routers decode as UTF-8 (werkzeug, Django). A framework that works
its routed path out by rules of its own passes it in (``routed_path``): Django routes on
``request.path_info``, the scope's path less ``FORCE_SCRIPT_NAME`` when that is set, whatever
the ``root_path``.
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
    def from_scope(cls, scope: Mapping[str, Any], routed_path: str | None = None) -> RequestView:
        """The view of an ASGI ``http`` or ``websocket`` scope (header names are lower-case).

        ``routed_path``: the path the framework routes on, when it works that out itself;
        by default the scope's ``path`` less its ``root_path``.
        """
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
        if routed_path is None:
            routed_path = scope["path"]
            root_path = scope.get("root_path")
            if root_path:
                routed_path = route_path(routed_path, root_path)
        return _view(
            (
                "GET" if websocket else scope["method"],
                routed_path,
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
    def from_environ(
        cls, environ: Mapping[str, Any], routed_path: str | None = None
    ) -> RequestView:
        """The view of a WSGI environ (PEP 3333), or of Django's ``request.META``.

        ``routed_path``: as for :meth:`from_scope`; by default ``PATH_INFO``, decoded.
        """
        if routed_path is None:
            routed_path = environ.get("PATH_INFO") or "/"
            if not routed_path.isascii():
                routed_path = _utf8(routed_path)
        fetch_site = environ.get("HTTP_SEC_FETCH_SITE")
        host = environ.get("HTTP_HOST")
        if not host and environ.get("SERVER_NAME") and environ.get("SERVER_PORT"):
            host = f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        return _view(
            (
                environ["REQUEST_METHOD"],
                routed_path,
                host or None,
                environ.get("HTTP_COOKIE") or None,
                environ.get("HTTP_AUTHORIZATION"),
                environ.get("HTTP_ORIGIN"),
                fetch_site.strip().lower() if fetch_site is not None else None,
                environ.get("HTTP_X_CSRF_TOKEN"),
                False,
            )
        )


# Built on every request: tuple.__new__ skips the generated, Python-level __new__.
_view = cast("Callable[[tuple[Any, ...]], RequestView]", partial(tuple.__new__, RequestView))


def route_path(path: str, root_path: str) -> str:
    """``path`` less ``root_path`` where it starts with it at a ``/`` boundary."""
    if root_path and path.startswith(root_path) and path[len(root_path) :][:1] in ("", "/"):
        return path[len(root_path) :] or "/"
    return path


def _utf8(path: str) -> str:
    """A PEP 3333 string (bytes as latin-1) as the text a router reads (UTF-8, as werkzeug)."""
    try:
        return path.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a server that passed text, not bytes: already decoded
        return path


def _server_host(server: Any) -> str | None:
    if not server or server[1] is None:
        return None
    host, port = server
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
