"""Telling a WSGI app from an ASGI app, the way servers and the ASGI spec do."""

from __future__ import annotations

import functools
import inspect
from typing import Literal

Interface = Literal["asgi", "wsgi"]


def detect_interface(app: object) -> Interface:
    """ASGI for an ``async def`` callable or an object whose class has ``async def __call__``.

    Looks through ``functools.partial``. A class is refused: it would be ASGI2-style, which
    no current server runs. Anything else is WSGI. Detection cannot see through a decorator
    that hides a coroutine function; pass ``interface=`` then.
    """
    while isinstance(app, functools.partial):
        app = app.func
    if inspect.isclass(app):
        raise TypeError(
            f"jwtcookie: {app.__name__} is a class, not an app instance; pass an instance "
            "(ASGI2-style classes are not supported), or interface='asgi'/'wsgi' if it is one."
        )
    if not callable(app):
        raise TypeError(f"jwtcookie: the wrapped app must be callable, got {type(app).__name__}.")
    if inspect.iscoroutinefunction(app):
        return "asgi"
    call = type(app).__call__
    if inspect.iscoroutinefunction(call):
        return "asgi"
    return "wsgi"
