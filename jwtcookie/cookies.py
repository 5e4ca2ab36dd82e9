"""Reading our one cookie from a Cookie header, and the Set-Cookie values we send back.

Serialising is werkzeug's ``dump_cookie``, done once at start-up: per request only the
token is joined to a precomputed attribute string. Reading is a targeted scan for our
cookie's name that gives exactly what ``werkzeug.http.parse_cookie`` would (a differential
property test pins this), and defers to werkzeug itself for quoted values and non-ASCII.
"""

from __future__ import annotations

from typing import Any

from werkzeug.http import dump_cookie, parse_cookie
from werkzeug.sansio.http import parse_cookie as parse_raw_cookie

_BLANK = " \t"


def find_cookie(header: str, name: str) -> list[str]:
    """Every value of cookie ``name`` in a Cookie header, in header order (werkzeug's reading).

    ``name`` is a valid cookie name (no blank, ``=``, ``;`` or ``"``), as the middleware checks.
    """
    if name not in header:
        return []  # decoding keeps ASCII as it is, so werkzeug would not find it either
    if '"' in header or not header.isascii():
        return _werkzeug_reading(header, name)
    # Without quotes every `;` ends a cookie: jump from one occurrence of the name to the
    # next, and read only the segments whose key it is.
    # Each segment is looked at once, so the scan stays linear on hostile headers.
    values = []
    segment_start = 0
    found = header.find(name)
    while found != -1:
        semicolon = header.rfind(";", segment_start, found)
        if semicolon != -1:
            segment_start = semicolon + 1
        segment_end = header.find(";", found)
        if segment_end == -1:
            segment_end = len(header)
        if not header[segment_start:found].strip(_BLANK):  # our name is this segment's key
            value = _value_after_name(header[found + len(name) : segment_end])
            if value is not None:
                values.append(value)
        segment_start = segment_end + 1
        found = header.find(name, segment_start)
    return values


def _value_after_name(rest: str) -> str | None:
    """The value in what follows our name in its segment, or None where werkzeug skips it."""
    if rest and rest[0] not in " \t=":
        return None  # a longer name that merely starts with ours
    rest = rest.lstrip(_BLANK)
    if not rest:
        return ""  # a name alone is an empty value
    if rest[0] != "=":
        return None  # werkzeug skips a segment it cannot read
    value = rest[1:].strip(_BLANK)
    if " " in value or "\t" in value:
        return None  # werkzeug skips a segment with junk after its value
    return value


def _werkzeug_reading(header: str, name: str) -> list[str]:
    """werkzeug's own parser, for quoted values and non-ASCII headers (rare, never our token)."""
    try:
        return parse_cookie(header).getlist(name)
    except UnicodeError:
        # Not UTF-8 once read as latin-1 bytes: werkzeug.http gives up, but an unrelated
        # cookie must not log the user out, so read it undecoded, as Flask's request does.
        return parse_raw_cookie(header).getlist(name)


class CookieWriter:
    """Set-Cookie values for one cookie, with every attribute worked out once."""

    __slots__ = ("_attributes", "_suffix", "delete_header", "name", "prefix", "prefix_bytes")

    def __init__(
        self,
        name: str,
        *,
        max_age: int,
        path: str,
        domain: str | None,
        secure: bool,
        httponly: bool,
        samesite: str | None,
        partitioned: bool,
    ) -> None:
        self.name = name
        self._attributes: dict[str, Any] = {
            "max_age": max_age,
            "path": path,
            "domain": domain,
            "secure": secure,
            "httponly": httponly,
            "samesite": samesite,
            "partitioned": partitioned,
        }
        self.prefix = f"{name}="  # what starts a Set-Cookie value for this cookie
        self.prefix_bytes = self.prefix.encode("latin-1")
        self._suffix = self._dump(max_age=max_age, sync_expires=False)[len(self.prefix) :]
        self.delete_header = self._dump(max_age=0, expires=0)

    def sibling(self, name: str, *, httponly: bool) -> CookieWriter:
        """A writer for another cookie with the same Path, Domain, Secure, SameSite, life."""
        attributes = {**self._attributes, "httponly": httponly}
        return CookieWriter(name, **attributes)

    def set_header(self, value: str) -> str:
        """The Set-Cookie value carrying ``value`` (a token or csrf value: never quoted)."""
        return self.prefix + value + self._suffix

    def _dump(self, **timing: Any) -> str:
        attributes = self._attributes
        header = dump_cookie(
            self.name,
            "",
            path=attributes["path"],
            domain=attributes["domain"],
            secure=attributes["secure"],
            httponly=attributes["httponly"],
            samesite=attributes["samesite"],
            **timing,
        )
        # Appended, not passed: werkzeug < 3.1 has no `partitioned` parameter.
        return header + ("; Partitioned" if attributes["partitioned"] else "")
