"""What a revocation store can answer: the one rule every store and the middleware share.

``revocations=`` takes a store (``jwtcookie.settings.RevocationStore``, of which
``jwtcookie.redis.RedisRevocations`` is one); its ``standing`` says whether it can answer now,
decided here for all, and its ``window`` must outlive the middleware's tokens.
"""

from __future__ import annotations

import enum
import time


class Standing(enum.Enum):
    """What a revocation store can say about a token right now (decided by :func:`standing`).

    Every question asks this one answer: accepting a token, renewing it, and the plain hooks.
    A logout revokes its session whatever the standing (the store queues it for Redis).
    ``CURRENT``: whole, and followed: accept what it does not refuse, and renew. ``BEHIND``:
    whole once, not confirmed since (fail open): accept, never renew. ``CANNOT_ANSWER``:
    refuse as unavailable and keep the cookie; never renew.
    """

    CURRENT = "current"
    BEHIND = "behind"
    CANNOT_ANSWER = "cannot answer"


CURRENT, BEHIND, CANNOT_ANSWER = Standing.CURRENT, Standing.BEHIND, Standing.CANNOT_ANSWER


def standing(
    loaded: bool, following: bool, confirmed_at: float, max_staleness: float | None
) -> Standing:
    """The one rule (``confirmed_at``: the ``time.monotonic()`` as of which the copy was last
    known whole). A copy that never held the whole set is no "last known state" to fail open
    from (it may lack the very revocation a token needs): it cannot answer, whatever
    ``max_staleness`` says. A whole copy older than ``max_staleness`` cannot either. A whole
    copy not followed right now answers, but a renewal minted from it would carry a fresh
    ``iat`` past a "log out everywhere" it has not heard of, so it never renews. Positional
    and short: every request asks it."""
    if not loaded or (
        max_staleness is not None and not time.monotonic() - confirmed_at <= max_staleness
    ):
        return CANNOT_ANSWER
    return CURRENT if following else BEHIND


def window_problem(window: float, *, max_age: int, leeway: float) -> str | None:
    """Why a component that keeps entries for ``window`` seconds cannot serve a middleware
    whose tokens live ``max_age`` (plus ``leeway``), or None. A store must never forget an
    entry before every token it refuses is dead; ``max_session_age`` only shortens tokens."""
    needed = max_age + leeway
    if window >= needed:
        return None
    return (
        f"the revocation store keeps an entry {window:g} s, but the middleware's tokens live up "
        f"to max_age + leeway = {needed:g} s, so a revoked session would be accepted again "
        "before its tokens expire: build the store with the middleware's max_age and leeway "
        f"(RedisRevocations(..., max_age={max_age}, leeway={leeway:g}))."
    )
