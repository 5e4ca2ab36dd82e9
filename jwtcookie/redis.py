"""Revocation shared through Redis and copied into every worker's memory.

Tokens need no shared store; revocation does. ``RedisRevocations`` keeps revoked sessions and
users' not-before times in Redis, one key per entry with a Redis expiry, and a copy of all of
them in each process, so the middleware's hooks are dict lookups with no network call.

How the copy follows Redis: **pub/sub**, not a stream. A revocation writes its key and
publishes it in one Lua script, so every subscriber hears it within a round trip, and a stream
would keep a second copy of every entry in Redis for as long as it could matter. Pub/sub's
weakness is that a message published while a subscriber is disconnected is lost; the store
closes that gap by reloading everything (``SCAN``) each time its subscription starts, after
subscribing, so nothing falls between the load and the first message. Entries only ever grow
(a later time wins), so reload and messages may arrive in any order.

When Redis is away the store keeps answering from its copy (or, with ``max_staleness``,
refuses every token once the copy is that old), reconnects with bounded backoff, and on each
resync writes back every entry Redis lacks: a revocation made while Redis was down, or entries
a restart without persistence lost. See docs/scaling-out.md.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

try:
    import redis
    import redis.asyncio
    from redis.commands.core import AsyncScript, Script
except ImportError as missing:  # pragma: no cover - the message is the point
    raise ImportError(
        "jwtcookie.redis needs redis-py 5 or later: pip install 'jwtcookie[redis]'."
    ) from missing

from jwtcookie._background import ProcessThread, ThisProcess
from jwtcookie._revocation.follower import Follower
from jwtcookie._revocation.keyspace import (
    REDIS_ERRORS,
    SET_IF_LATER_SCRIPT,
    RedisKeyspace,
    client_options,
)
from jwtcookie._revocation.memory import SESSION, USER, Entry, RevocationCache
from jwtcookie.revocations import CANNOT_ANSWER, Standing, standing

SEVEN_DAYS = 7 * 24 * 3600
HEARTBEAT = 1.0  # seconds between heartbeats through the subscription, each confirming the copy
FIRST_LOAD_WAIT = 10.0  # start()'s longest wait for the first load (100,000 entries: 2.4 s)
FAR_FUTURE = float(2**62)  # a not-before that refuses every token (int() of it is exact)

log = logging.getLogger("jwtcookie.redis")

# Given the options the store needs (decoded replies, timeouts, no retries of its own: the
# store retries), returns a client built with them: ``lambda options: Redis(..., **options)``.
Connect = Callable[[dict[str, Any]], Any]


class RedisRevocations:
    """Revoked sessions and "log out everywhere" times in Redis, read from local memory.

    Pass it to the middleware as ``revocations=store``: every request is checked against it,
    ``logout()`` revokes the session everywhere, and a stale copy (``max_staleness``) keeps
    requests anonymous without deleting cookies. Call ``revoke_user(user_id)`` to log a user
    out everywhere (``*_async`` twins in ASGI handlers). Its ``is_revoked`` and
    ``user_not_before`` also work as the middleware's plain hooks (``**store.hooks()``): the
    middleware finds the store behind them and treats it as ``revocations=store``.
    Each process follows Redis from a daemon thread started on first use (or by ``start()``),
    and again after a fork.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        max_age: int = SEVEN_DAYS,  # the middleware's max_age: no token, so no entry, lives longer
        leeway: float = 10,  # the middleware's: servers' clocks may disagree by this much
        prefix: str = "jwtcookie",  # keys and channel; one per group of services sharing tokens
        max_staleness: float | None = None,  # None fails open; seconds: refuse all once that stale
        timeout: float = 2.0,  # longest wait for Redis on any call; a revocation then stays local
        connect: Connect | None = None,  # instead of url: Sentinel, Cluster (docs/scaling-out.md)
        connect_async: Connect | None = None,  # the redis.asyncio twin of connect
        clock: Callable[[], float] = time.time,  # wall clock; injectable for tests
    ) -> None:
        if not isinstance(max_age, int) or max_age <= 0:
            raise ValueError("jwtcookie: max_age is the middleware's max_age, in seconds.")
        if not 0 <= leeway <= 300:
            raise ValueError("jwtcookie: leeway is clock skew in seconds, between 0 and 300.")
        if not prefix or any(char in prefix for char in "*?[]\\ "):
            raise ValueError("jwtcookie: prefix is a plain key prefix such as 'jwtcookie'.")
        if max_staleness is not None and not max_staleness >= 0.1:
            raise ValueError("jwtcookie: max_staleness is None (fail open) or at least 0.1 s.")
        if not timeout > 0:
            raise ValueError("jwtcookie: timeout is a positive number of seconds.")
        if (url is None) == (connect is None):
            raise ValueError(
                "jwtcookie: pass RedisRevocations a url ('redis://host:6379/0') or connect=, "
                "a function that builds a redis client, not both."
            )
        self._url = url
        self._connect_async = connect_async
        self._max_staleness = max_staleness
        self._timeout = timeout
        self._clock = clock
        self._cache = RevocationCache(max_age + leeway, clock)
        self._keyspace = RedisKeyspace(prefix, max_age + leeway, clock)
        self._heartbeat = HEARTBEAT if max_staleness is None else min(HEARTBEAT, max_staleness / 4)
        options = client_options(timeout)
        self._client = connect(options) if connect else redis.Redis.from_url(str(url), **options)
        raw = client_options(timeout, decode=False)
        self._subscriber = connect(raw) if connect else redis.Redis.from_url(str(url), **raw)
        self._set_if_later: Script = self._client.register_script(SET_IF_LATER_SCRIPT)
        # One redis.asyncio client per event loop (its connections belong to that loop).
        self._async: dict[int, tuple[asyncio.AbstractEventLoop, Any, AsyncScript]] = {}
        self._follower = self._new_follower()
        self._process = ProcessThread(self._follow_here)

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """The ``is_revoked`` hook: the token's session was revoked, or the store cannot answer."""
        if self.standing is CANNOT_ANSWER:
            return True  # fail closed
        sid = claims.get("sid")
        return isinstance(sid, str) and sid in self._cache.sessions

    def user_not_before(self, claims: Mapping[str, Any]) -> float | None:
        """The ``user_not_before`` hook: when the user last logged out everywhere, if ever."""
        if self.standing is CANNOT_ANSWER:
            return FAR_FUTURE
        users = self._cache.users
        if not users:
            return None
        identity = claims.get("_id", claims.get("sub"))
        if identity is None:
            return None
        return users.get(identity if isinstance(identity, str) else str(identity))

    def hooks(self) -> dict[str, Callable[[Mapping[str, Any]], Any]]:
        """Both hooks, to pass as ``JWTCookieMiddleware(app, ..., **store.hooks())``."""
        return {"is_revoked": self.is_revoked, "user_not_before": self.user_not_before}

    @property
    def synced(self) -> bool:
        """Whether this process follows Redis right now (subscribed, loaded, written back)."""
        return self._follower.synced

    @property
    def standing(self) -> Standing:
        """What the copy can answer now, by ``jwtcookie.revocations.standing``: nothing before
        this process's first full load or once older than ``max_staleness`` (the middleware then
        answers ``unavailable`` and keeps the cookie; hooks that hide the store, such as a
        ``lambda`` calling it, refuse tokens as revoked), and no renewal while not following."""
        process = self._process
        process.lookups_until_pid_check -= 1
        if process.pid != ThisProcess.pid or process.lookups_until_pid_check < 0:
            process.check()
        follower = self._follower
        return standing(
            follower.loaded, follower.synced, follower.confirmed_at, self._max_staleness
        )

    @property
    def stale(self) -> bool:
        """Whether the store cannot answer now (``standing``)."""
        return self.standing is Standing.CANNOT_ANSWER

    @property
    def loaded(self) -> bool:
        """Whether this process has held every revocation in Redis at least once."""
        return self._follower.loaded

    @property
    def window(self) -> float:
        """Seconds an entry is kept after its time: ``max_age`` plus ``leeway``."""
        return self._cache.lifetime

    @property
    def staleness(self) -> float:
        """Seconds since Redis last confirmed the local copy whole (``inf`` before the first)."""
        return self._follower.staleness

    def __len__(self) -> int:
        """Entries held in this process's memory."""
        return len(self._cache)

    def revoke_session(self, sid: str) -> bool:
        """Refuse every token of this login (``get_auth(request).session_id``), everywhere.

        This process refuses it at once. True once Redis has it (every follower hears within
        a round trip); False if Redis could not be reached in ``timeout``: the store writes it
        when Redis is back, for as long as this process lives.
        """
        entry = (SESSION, _session_id(sid), self._clock())
        return self._send(entry) if self._record(entry) else True

    def revoke_user(self, user_id: str | int, at: float | datetime | None = None) -> bool:
        """Log a user out everywhere: refuse their tokens issued before ``at`` (default now).

        ``user_id`` is the token's ``_id`` (else ``sub``). As the middleware's
        ``user_not_before`` reads it, a token issued in the same whole second still counts,
        so the user can log in again at once. Returns as ``revoke_session`` does.
        """
        entry = (USER, _user_id(user_id), self._not_before(at))
        return self._send(entry) if self._record(entry) else True

    async def revoke_session_async(self, sid: str) -> bool:
        """``revoke_session`` on ``redis.asyncio``, for ``async def`` handlers."""
        entry = (SESSION, _session_id(sid), self._clock())
        return await self._send_async(entry) if self._record(entry) else True

    async def revoke_user_async(
        self, user_id: str | int, at: float | datetime | None = None
    ) -> bool:
        """``revoke_user`` on ``redis.asyncio``, for ``async def`` handlers."""
        entry = (USER, _user_id(user_id), self._not_before(at))
        return await self._send_async(entry) if self._record(entry) else True

    def _not_before(self, at: float | datetime | None) -> float:
        now = self._clock()
        if at is None:
            return now
        value = _timestamp(at)
        if value > now + self._cache.lifetime:
            raise ValueError(
                "jwtcookie: revoke_user's at may be at most max_age (plus leeway) from now; "
                "a later one would outlive every token it could refuse."
            )
        return value

    def _record(self, entry: Entry) -> bool:
        """Apply a revocation here first; False when it can no longer refuse any token."""
        self._own_cache()
        kind, ident, at = entry
        if self._cache.expires_at(at) <= self._clock():
            return False
        self._cache.add(kind, ident, at)
        return True

    def _send(self, entry: Entry) -> bool:
        try:
            args = self._keyspace.raise_args(entry, publish=True)
            self._set_if_later(keys=[self._keyspace.key(entry)], args=args)
        except REDIS_ERRORS as error:
            return self._unconfirmed(entry, error)
        return True

    async def _send_async(self, entry: Entry) -> bool:
        try:
            script = self._async_script()
            args = self._keyspace.raise_args(entry, publish=True)
            await script(keys=[self._keyspace.key(entry)], args=args)
        except REDIS_ERRORS as error:
            return self._unconfirmed(entry, error)
        return True

    def _unconfirmed(self, entry: Entry, error: BaseException) -> bool:
        self._follower.unconfirmed(entry)
        log.warning(
            "jwtcookie: Redis did not take a revocation (%s); this process refuses it now and "
            "writes it to Redis when it is back.",
            type(error).__name__,
        )
        self.start(wait=False)  # a process that only revokes needs the follower to retry it
        return False

    def start(self, *, wait: bool = True) -> bool:
        """Follow Redis from this process (again after a fork); whether the copy is synced.

        With ``wait``, the first start waits for the first full load (up to 10 s; at once
        False when Redis cannot be reached). Until that load the store cannot answer: tokens
        are ``unavailable``, cookies kept. Lookups call this on first use; call it yourself
        at start-up (a lifespan handler, gunicorn's ``post_fork``) to wait there.
        """
        self._process.ensure(wait=wait)
        return self._follower.synced

    def _follow_here(self, forked: bool, wait: bool) -> None:
        if forked:  # the parent's thread and locks are not ours
            self._cache.after_fork()
            self._async = {}
            self._follower = self._new_follower()
        self._follower.start()
        if wait:
            self._follower.first_try.wait(FIRST_LOAD_WAIT)

    def _new_follower(self) -> Follower:
        return Follower(
            self._client,
            self._subscriber,
            self._set_if_later,
            self._cache,
            self._keyspace,
            timeout=self._timeout,
            heartbeat=self._heartbeat,
        )

    def forget_expired(self) -> int:
        """Drop local entries no token can need any more (the follower does it every 30 s)."""
        self._own_cache()
        return self._cache.forget_expired()

    def _own_cache(self) -> None:
        """In a forked child, follow here before writing: that gives the copy a fresh lock,
        and the parent's follower may have held the old one at the fork (a real pid check:
        a fork from C leaves ``ThisProcess`` as it was)."""
        if self._process.pid is not None:
            self._process.ensure(wait=False)

    def close(self) -> None:
        """Stop following Redis; lookups keep answering from the last copy."""
        self._process.closed = True
        self._follower.stop()
        for client in (self._client, self._subscriber):
            client.close()
            pool = getattr(client, "connection_pool", None)
            if pool is not None:
                pool.disconnect()

    async def aclose(self) -> None:
        """``close``, and the ``redis.asyncio`` client of the running event loop."""
        await self._close_async_client()
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    def __enter__(self) -> RedisRevocations:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _async_script(self) -> AsyncScript:
        loop = asyncio.get_running_loop()
        found = self._async.get(id(loop))
        if found is None or found[0] is not loop:
            options = client_options(self._timeout)
            if self._connect_async is not None:
                client = self._connect_async(options)
            elif self._url is not None:
                client = redis.asyncio.Redis.from_url(self._url, **options)
            else:
                raise TypeError(
                    "jwtcookie: the async revocations need connect_async= beside connect=: "
                    "a function that builds the redis.asyncio twin of the same client."
                )
            found = self._async[id(loop)] = (
                loop,
                client,
                client.register_script(SET_IF_LATER_SCRIPT),
            )
        return found[2]

    async def _close_async_client(self) -> None:
        loop = asyncio.get_running_loop()
        found = self._async.pop(id(loop), None)
        if found is None or found[0] is not loop:
            return
        closing = getattr(found[1], "aclose", None) or found[1].close  # aclose: redis >= 5.0.1
        if "close_connection_pool" in inspect.signature(closing).parameters:
            await closing(close_connection_pool=True)  # a Sentinel client's pool is its own
        else:
            await closing()


def _session_id(sid: object) -> str:
    if not isinstance(sid, str):
        raise TypeError(
            "jwtcookie: revoke_session takes the session id, get_auth(request).session_id, "
            f"a str, not {type(sid).__name__} (it is None for a token without a sid: "
            "revoke_user covers those)."
        )
    if not sid:
        raise ValueError("jwtcookie: revoke_session needs a non-empty session id.")
    return sid


def _user_id(user_id: object) -> str:
    if isinstance(user_id, bool) or not isinstance(user_id, (str, int)):
        raise TypeError(
            "jwtcookie: revoke_user takes the user id the tokens carry in _id (else sub), "
            f"a str or int, not {type(user_id).__name__}."
        )
    if user_id == "":
        raise ValueError("jwtcookie: revoke_user needs a non-empty user id.")
    return str(user_id)


def _timestamp(at: float | datetime) -> float:
    value = at.timestamp() if isinstance(at, datetime) else at
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("jwtcookie: at is a Unix timestamp or a datetime.")
    return float(value)


__all__ = ["RedisRevocations"]
