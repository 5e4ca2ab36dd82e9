"""Cross-site request protection: the rule of Go 1.25's ``net/http.CrossOriginProtection``.

An unsafe request is refused when the browser says it is cross-site: ``Sec-Fetch-Site`` is
present and neither ``same-origin`` nor ``none``, or, from older browsers without it, an
``Origin`` whose host and port are not the request's ``Host``. Requests with neither header
come from non-browser clients, which carry no ambient cookies to abuse, and pass.

The ``Origin`` fallback compares the host alone, as Go does: behind a proxy that ends TLS and
does not pass the scheme on, the app sees ``http`` while the page's origin is ``https``, and
a same-origin POST would be refused. What that gives up is narrow: only a browser that sends
no ``Sec-Fetch-Site`` (every current one does) falls back to ``Origin``, and then a plain-http
page on the very same host and port could post to the https site.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
STRICT = "strict"  # cross_site_protection: refuse every cross-site write, cookie or not


class OriginGuard:
    """Decides, from a few headers, whether an unsafe request may go on (the caller asks only
    about unsafe ones: not GET, HEAD, OPTIONS or TRACE, and every WebSocket handshake).

    ``trusted_origins`` holds origins (``https://app.example``) and patterns
    (``https://*.example.com``): a pattern names every well-formed origin of that scheme and
    port whose host is a DNS name ending with ``.example.com``, a subdomain at any depth, not
    ``example.com`` itself.
    """

    __slots__ = ("patterns", "trusted")

    def __init__(self, trusted_origins: Iterable[str] = ()) -> None:
        trusted = set()
        patterns = set()
        for origin in trusted_origins:
            if "*" in origin:
                patterns.add(_pattern(origin))
            else:
                trusted.add(_origin(origin))
        self.trusted = frozenset(trusted)
        self.patterns = tuple(sorted(patterns))

    def trusts(self, origin: str | None) -> bool:
        """Whether ``origin`` is one of ``trusted_origins``, or matches one of their patterns."""
        if origin is None or not (self.trusted or self.patterns):
            return False
        normal = normalise_origin(origin)
        if normal is None:
            return False
        if normal in self.trusted:
            return True
        scheme, _, rest = normal.partition("://")
        host, _, port = rest.rpartition(":")
        return _dns_name(host) and any(
            scheme == pattern_scheme and port == pattern_port and host.endswith(suffix)
            for pattern_scheme, suffix, pattern_port in self.patterns
        )

    def allows(self, *, fetch_site: str | None, origin: str | None, host: str | None) -> bool:
        if self.trusts(origin):
            return True
        if fetch_site is not None:
            return fetch_site in ("same-origin", "none")
        if origin is None:
            return True  # neither header: not a browser
        return host is not None and same_host(origin, host)


def check_origins(trusted_origins: Iterable[str]) -> None:
    """Refuse, with what to do, an entry of ``trusted_origins`` that is no origin or pattern."""
    for origin in trusted_origins:
        if "*" in origin:
            _pattern(origin)
        else:
            _origin(origin)


def _origin(origin: str) -> str:
    """``origin`` in its normal form; a malformed one refused."""
    normal = normalise_origin(origin)
    if normal is None:
        raise ValueError(
            f"jwtcookie: trusted origin {origin!r} is not of the form "
            "scheme://host[:port] (or scheme://*.domain[:port] for its subdomains)."
        )
    return normal


def _pattern(pattern: str) -> tuple[str, str, str]:
    """``(scheme, ".domain", port)`` of ``scheme://*.domain[:port]``; malformed ones refused."""
    scheme, separator, rest = pattern.strip().partition("://")
    wildcard = separator and rest.startswith("*.")
    normal = normalise_origin(f"{scheme}://{rest[2:]}") if wildcard else None
    domain = normal.partition("://")[2].rpartition(":")[0] if normal else ""
    if (
        normal is None
        or not _dns_name(domain)
        or "." not in domain  # `*.com`: a whole top-level domain
        or domain.rpartition(".")[2].isdigit()  # an IP address has no subdomains
    ):
        raise ValueError(
            f"jwtcookie: trusted origin pattern {pattern!r} is not of the form "
            "scheme://*.domain[:port], such as 'https://*.example.com': one leading '*.' "
            "before a domain of at least two labels of letters, digits and hyphens, an "
            "optional port, and nothing else."
        )
    scheme, _, host_port = normal.partition("://")
    _, _, port = host_port.rpartition(":")
    return scheme, "." + domain, port


def _dns_name(host: str) -> bool:
    """Whether ``host`` is a DNS name in lower case: labels of letters, digits and inner
    hyphens, none empty. What a pattern may match: ``#``, ``?``, ``\\`` or an empty label in
    front of ``.example.com`` is no subdomain of it."""
    return 0 < len(host) <= 253 and all(_LABEL.fullmatch(label) for label in host.split("."))


def same_host(origin: str, host: str) -> bool:
    """Whether ``origin`` names the host and port of a ``Host`` header (a port left out is the
    origin's scheme's default: ``https://a.example`` is ``a.example`` or ``a.example:443``)."""
    normal = normalise_origin(origin)
    if normal is None:
        return False
    scheme = normal.partition("://")[0]
    return normalise_origin(f"{scheme}://{host}") == normal


def normalise_origin(origin: str) -> str | None:
    """``scheme://host:port`` in lower case with the default port filled in; None if malformed."""
    scheme, separator, rest = origin.strip().partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in _DEFAULT_PORTS or not rest or "/" in rest or "@" in rest:
        return None  # also `null`, which a browser sends for opaque origins
    rest = rest.lower()
    if rest.startswith("["):
        host, bracket, port_part = rest.partition("]")
        host += bracket
        port = port_part[1:] if port_part.startswith(":") else ""
        if port_part and not port_part.startswith(":"):
            return None
    else:
        host, _, port = rest.partition(":")
    if not host:
        return None
    port = port or _DEFAULT_PORTS[scheme]
    if not port.isdigit():
        return None
    return f"{scheme}://{host}:{int(port)}"
