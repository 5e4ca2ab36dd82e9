"""Hooks named by dotted path in ``JWTCOOKIE``, as a project's settings name them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.utils.asyncio import async_unsafe

from jwtcookie.revocations import Standing

REVOKED_SUBJECT = "666"


@async_unsafe  # what guards the ORM: raises SynchronousOnlyOperation inside an event loop
def is_revoked(claims: Mapping[str, Any]) -> bool:
    return claims.get("sub") == REVOKED_SUBJECT


async def async_is_revoked(claims: Mapping[str, Any]) -> bool:
    return claims.get("sub") == REVOKED_SUBJECT


def load_user(claims: Mapping[str, Any]) -> Any:
    """The issue's load_user: a plain function reading the ORM."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=claims.get("sub")).first()


class MemoryRevocations:
    """A revocation store (``revocations=``) in a set, recording which revoke ran."""

    standing = Standing.CURRENT
    window = math.inf  # keeps every entry for ever

    def __init__(self) -> None:
        self.sessions: set[str] = set()
        self.calls: list[str] = []

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        return claims.get("sid") in self.sessions

    def user_not_before(self, claims: Mapping[str, Any]) -> float | None:
        return None

    def revoke_session(self, session_id: str) -> None:
        self.calls.append("revoke_session")
        self.sessions.add(session_id)

    async def revoke_session_async(self, session_id: str) -> None:
        self.calls.append("revoke_session_async")
        self.sessions.add(session_id)
