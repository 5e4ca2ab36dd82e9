"""Keeping a response that carries our cookie out of shared caches.

A CDN or proxy that stores a response with ``Set-Cookie`` hands that cookie (a fresh login,
or a deletion) to whoever asks for the URL next. Whenever the middleware adds its own
``Set-Cookie``, the response is made private, as Django does: ``public`` and ``s-maxage`` are
dropped and ``private`` added, unless ``private`` or ``no-store`` already keeps shared caches
out. Renewal then still happens on cacheable pages; they are private for that one response.

A CDN obeys a field targeted at it instead of ``Cache-Control`` (RFC 9213:
``CDN-Cache-Control``, and vendors' ``<Vendor>-CDN-Cache-Control``; before it, Fastly's and
others' ``Surrogate-Control``, Akamai's ``Edge-Control``; nginx's ``X-Accel-Expires``, which its
proxy cache ranks above ``Cache-Control``), so ``Cache-Control: private`` alone would leave such
a response public to it. Those fields are removed: every cache then reads the private
``Cache-Control``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

PRIVATE = "private"
_SHARED_ONLY = frozenset({"public", "s-maxage"})
_TARGETED = frozenset({"surrogate-control", "edge-control", "x-accel-expires"})


def targets_shared_caches(field: str) -> bool:
    """Whether header ``field`` tells a CDN how to cache, overriding ``Cache-Control``."""
    name = field.lower()
    return name in _TARGETED or name.endswith("cdn-cache-control")


def kept_from_shared_caches(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` of a response that carries our cookie, made storable by no shared cache."""
    cache_controls = [value for name, value in headers if name.lower() == "cache-control"]
    private = private_cache_control(cache_controls) if cache_controls else PRIVATE
    kept = [
        (name, value)
        for name, value in headers
        if not targets_shared_caches(name) and (private is None or name.lower() != "cache-control")
    ]
    return kept if private is None else [*kept, ("Cache-Control", private)]


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
