"""Keeping a response that carries our cookie out of shared caches.

A CDN or proxy that stores a response with ``Set-Cookie`` hands that cookie (a fresh login,
or a deletion) to whoever asks for the URL next. Whenever the middleware adds its own
``Set-Cookie``, the response is made private, as Django does: ``public`` and ``s-maxage`` are
dropped and ``private`` added, unless ``private`` or ``no-store`` already keeps shared caches
out. Renewal then still happens on cacheable pages; they are private for that one response.
"""

from __future__ import annotations

from collections.abc import Iterable

PRIVATE = "private"
_SHARED_ONLY = frozenset({"public", "s-maxage"})


def private_cache_control(cache_controls: Iterable[str]) -> str | None:
    """The Cache-Control value replacing ``cache_controls``, or None when they already do.

    ``cache_controls`` are the values of every Cache-Control header of the response.
    """
    parts = (part.strip() for value in cache_controls for part in value.split(","))
    directives = {part: part.split("=", 1)[0].strip().lower() for part in parts if part}
    if "no-store" in directives.values() or any(p.lower() == PRIVATE for p in directives):
        return None
    kept = [part for part, name in directives.items() if name not in _SHARED_ONLY]
    return ", ".join([*kept, PRIVATE])
