"""Reading our one cookie from a Cookie header, and the Set-Cookie values we send back.

Serialising is werkzeug's ``dump_cookie``, done once at start-up: per request only the
token is joined to a precomputed attribute string. Reading splits the header on ``;``, as
browsers build it (RFC 6265 §5.4: ``name=value`` pairs joined by ``; ``, never a ``;`` in a
value). A parser that reads quoted strings, werkzeug's included, lets a cookie planted by a
sibling subdomain holding a lone ``"`` swallow the cookies after it; the duplicate-cookie
rule needs to see every value sent under our name, so no planted byte may hide one.
"""

from __future__ import annotations

from typing import Any

from werkzeug.http import dump_cookie

_BLANK = " \t"
MAX_DUPLICATE_COOKIES = 4  # more same-named cookies than this make the request anonymous


def find_cookie(header: str, name: str) -> list[str]:
    """Every value of cookie ``name`` in a Cookie header, in header order, quotes and all.

    ``name`` is a valid cookie name (no blank, ``=``, ``;`` or ``"``), as the middleware checks.
    A segment without ``=`` is a browser's nameless cookie, never ours.
    """
    if name not in header:
        return []
    values = []
    for segment in header.split(";"):
        if name in segment:
            key, equals, value = segment.partition("=")
            if equals and key.strip(_BLANK) == name:
                values.append(value.strip(_BLANK))
    return values


def cookie_prefix(name: str) -> str:
    """The ``__Host-`` or ``__Secure-`` prefix of ``name``, in its own case; '' for none."""
    for prefix in ("__host-", "__secure-"):
        if name[: len(prefix)].lower() == prefix:
            return name[: len(prefix)]
    return ""


class CookieWriter:
    """Set-Cookie values for one cookie, with every attribute worked out once."""

    __slots__ = ("_attributes", "_suffix", "delete_header", "name", "prefix")

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
        self.prefix = f"{name}="
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
