"""Hooks named by dotted path in ``JWTCOOKIE``, as a project's settings name them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.asyncio import async_unsafe

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
