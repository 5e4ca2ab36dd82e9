"""Reading our one cookie from a Cookie header, and the Set-Cookie values we send back.

Serialising is werkzeug's ``dump_cookie``, done once at start-up: per request only the
token is joined to a precomputed attribute string. Reading is a targeted scan for our
cookie's name that gives exactly what ``werkzeug.http.parse_cookie`` would (a differential
property test pins this), and defers to werkzeug itself for quoted values.
"""

from __future__ import annotations

from werkzeug.http import dump_cookie, parse_cookie

_BLANK = " \t"
# Bytes werkzeug's cookie grammar treats specially inside a name.
_NAME_STOP = frozenset(' \t=;"')
_VALUE_STOP = frozenset(' \t";')


def find_cookie(header: str, name: str) -> list[str]:
    """Every value of cookie ``name`` in a Cookie header, in header order (werkzeug's reading)."""
    if name not in header:
        return []
    if '"' in header:
        return parse_cookie(header).getlist(name)
    values = []
    for segment in header.split(";"):
        value = _segment_value(segment, name)
        if value is not None:
            values.append(value)
    return values


def _segment_value(segment: str, name: str) -> str | None:
    """The value of one ``;``-separated segment when its name is ``name`` and it parses."""
    start = len(segment) - len(segment.lstrip(_BLANK))
    if not segment.startswith(name, start):
        return None
    rest = segment[start + len(name) :]
    if rest and rest[0] not in _NAME_STOP:
        return None  # a longer name that merely starts with ours
    rest = rest.lstrip(_BLANK)
    if not rest:
        return ""
    if rest[0] != "=":
        return None
    rest = rest[1:].lstrip(_BLANK)
    end = 0
    while end < len(rest) and rest[end] not in _VALUE_STOP:
        end += 1
    if rest[end:].strip(_BLANK):
        return None  # werkzeug skips a segment with junk after its value
    return rest[:end]


class CookieWriter:
    """Set-Cookie values for our cookie, with every attribute worked out once."""

    __slots__ = ("_prefix", "_suffix", "delete_header", "name")

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
        # werkzeug >= 3.1 writes Partitioned itself; older ones need it appended.
        partitioned_flag = "; Partitioned" if partitioned else ""
        template = dump_cookie(
            name,
            "",
            max_age=max_age,
            sync_expires=False,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )
        self._prefix = f"{name}="
        self._suffix = template[len(self._prefix) :] + partitioned_flag
        deleted = dump_cookie(
            name,
            "",
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )
        self.delete_header = deleted + partitioned_flag

    def set_header(self, token: str) -> str:
        """The Set-Cookie value carrying ``token``; tokens are base64url, so never quoted."""
        return self._prefix + token + self._suffix

    def is_ours(self, set_cookie_value: str) -> bool:
        """Whether an app's own Set-Cookie value sets or deletes our cookie."""
        return set_cookie_value.lstrip(_BLANK).startswith(self._prefix)
