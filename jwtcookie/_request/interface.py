"""Telling a WSGI app from an ASGI app, the way servers and the ASGI spec do."""

from __future__ import annotations

import functools
import inspect
from typing import Literal

Interface = Literal["asgi", "wsgi"]


def detect_interface(app: object) -> Interface:
    """ASGI for an ``async def`` callable, an object whose class has ``async def __call__``,
    or a class with ``__await__`` (Starlette's ``HTTPEndpoint``: calling it makes an object
    that awaiting runs), as uvicorn's ``--interface auto`` decides.

    Looks through ``functools.partial``. Any other class is refused: it would be ASGI2-style,
    which no current server runs. Anything else is WSGI. Detection cannot see through a
    decorator that hides a coroutine function; pass ``interface=`` then.
    """
    while isinstance(app, functools.partial):
        app = app.func
    if inspect.isclass(app):
        if hasattr(app, "__await__"):
            return "asgi"
        raise TypeError(
            f"jwtcookie: {app.__name__} is a class, not an app instance; pass an instance "
            "(ASGI2-style classes are not supported), or interface='asgi'/'wsgi' if it is one."
        )
    if not callable(app):
        raise TypeError(f"jwtcookie: the wrapped app must be callable, got {type(app).__name__}.")
    return "asgi" if is_async_callable(app) else "wsgi"


def is_async_callable(thing: object) -> bool:
    """Whether calling ``thing`` gives a coroutine: an ``async def`` function or method, or an
    object whose class has ``async def __call__``, looked at through ``functools.partial``."""
    while isinstance(thing, functools.partial):
        thing = thing.func
    return inspect.iscoroutinefunction(thing) or (
        callable(thing) and inspect.iscoroutinefunction(type(thing).__call__)
    )
