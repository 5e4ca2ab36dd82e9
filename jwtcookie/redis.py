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
import contextlib
import inspect
import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

try:
    import redis
    import redis.asyncio
    from redis.backoff import NoBackoff
    from redis.commands.core import AsyncScript, Script
    from redis.retry import Retry
except ImportError as missing:  # pragma: no cover - the message is the point
    raise ImportError(
        "jwtcookie.redis needs redis-py 5 or later: pip install 'jwtcookie[redis]'."
    ) from missing

from jwtcookie.revocations import KINDS, SESSION, USER, Entry, Kind, Replica

SEVEN_DAYS = 7 * 24 * 3600
FIRST_BACKOFF = 0.05  # seconds before the first reconnection attempt
MAX_BACKOFF = 2.0  # reconnection attempts never wait longer (with jitter, so workers spread)
STEADY_SECONDS = 10.0  # a connection that lasted this long starts a new outage at FIRST_BACKOFF
HEARTBEAT = 1.0  # a heartbeat through the subscription this often confirms the copy is whole
SWEEP_SECONDS = 30.0  # how often the follower forgets expired entries
BATCH = 1000  # keys per SCAN step, pipelined GETs and write-backs, entries per message
FAR_FUTURE = float(2**62)  # a not-before that refuses every token (int() of it is exact)
REDIS_ERRORS = (redis.RedisError, OSError)

log = logging.getLogger("jwtcookie.redis")

# KEYS[1] the entry; ARGV: time, expiry in ms, channel ("" for none), message.
# Keeps the later time (an entry never moves back), and publishes only what changed, in the
# same atomic step as the write, so a subscriber never hears of a key that is not there.
RAISE_SCRIPT = """
local known = redis.call('GET', KEYS[1])
if known and tonumber(known) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return 1
"""

SyncClient = Any  # redis.Redis, a Sentinel master_for(...) client, or a RedisCluster
AsyncClient = Any  # their redis.asyncio twins
# Given the options the store needs (decoded replies, timeouts, no retries of its own: the
# store retries), returns a client built with them: ``lambda options: Redis(..., **options)``.
Connect = Callable[[dict[str, Any]], Any]

PID_CHECK_EVERY = 256  # lookups between real os.getpid() calls (below)


class _ThisProcess:
    """This process's id, kept by an at-fork handler: ``os.getpid()`` is a system call (150 ns).

    A server that forks from C without Python's at-fork handlers (uWSGI without ``lazy-apps``)
    is caught by a real ``os.getpid()`` every ``PID_CHECK_EVERY`` lookups.
    """

    pid = os.getpid()
    start_lock = threading.Lock()


def _after_fork_in_child() -> None:
    _ThisProcess.pid = os.getpid()
    _ThisProcess.start_lock = threading.Lock()  # another thread may have held the parent's


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class RedisRevocations:
    """Revoked sessions and "log out everywhere" times in Redis, read from local memory.

    Pass ``is_revoked`` and ``user_not_before`` (or ``**store.hooks()``) to
    ``JWTCookieMiddleware``; call ``revoke_session(get_auth(request).session_id)`` at logout
    and ``revoke_user(user_id)`` to log a user out everywhere (``*_async`` twins in ASGI
    handlers). Each process follows Redis from a daemon thread started on first use (or by
    ``start()``), and again after a fork.
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
        connect: Connect | None = None,  # instead of url: Sentinel, Cluster (see the docs)
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
        self._url = url
        self._connect_async = connect_async
        self._max_staleness = max_staleness
        self._timeout = timeout
        self._clock = clock
        self._prefix = prefix
        self._channel = f"{prefix}:revocations"
        self._epoch_key = f"{prefix}:epoch"  # gone or changed: Redis lost its data (FLUSHALL)
        self._epoch: str | None = None  # the value this process last synced with
        self._pattern = f"{prefix}:[{''.join(KINDS)}]:*"
        self._replica = Replica(max_age + leeway, clock)
        # A PING every HEARTBEAT, or often enough that a healthy copy is never stale.
        self._heartbeat = HEARTBEAT if max_staleness is None else min(HEARTBEAT, max_staleness / 4)
        if url is not None and connect is None:
            self._client: SyncClient = redis.Redis.from_url(url, **self._client_options())
        elif connect is not None and url is None:
            self._client = connect(self._client_options())
        else:
            raise ValueError(
                "jwtcookie: pass RedisRevocations a url ('redis://host:6379/0') or connect=, "
                "a function that returns a redis client, not both."
            )
        self._raise: Script = self._client.register_script(RAISE_SCRIPT)
        # One redis.asyncio client per event loop (its connections belong to that loop).
        self._async: dict[int, tuple[asyncio.AbstractEventLoop, AsyncClient, AsyncScript]] = {}
        self._unsent: dict[tuple[Kind, str], float] = {}  # revocations Redis has not confirmed
        self._confirmed_at = -math.inf  # monotonic time as of which the copy was whole
        self._synced = False
        self._synced_since = -math.inf
        self._lost = False  # logged as lost, not yet back
        self._pid: int | None = None  # the process the follower runs in
        self._countdown = 0  # lookups left before the next real pid check
        self._closed = False
        self._stop = threading.Event()
        self._first_sync = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the middleware's hooks: local lookups only -----------------------------------------

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """The ``is_revoked`` hook: the token's session was revoked, or the copy is too stale."""
        self._countdown -= 1
        if self._pid != _ThisProcess.pid or self._countdown < 0:
            self._follow_in_this_process()
        if self._max_staleness is not None and self.staleness > self._max_staleness:
            return True  # fail closed
        sid = claims.get("sid")
        return isinstance(sid, str) and sid in self._replica.sessions

    def user_not_before(self, claims: Mapping[str, Any]) -> float | None:
        """The ``user_not_before`` hook: when the user last logged out everywhere, if ever."""
        self._countdown -= 1
        if self._pid != _ThisProcess.pid or self._countdown < 0:
            self._follow_in_this_process()
        if self._max_staleness is not None and self.staleness > self._max_staleness:
            return FAR_FUTURE  # fail closed, even where only this hook is wired
        users = self._replica.users
        if not users:
            return None
        identity = claims.get("_id", claims.get("sub"))  # as TokenUser.identity reads it
        if identity is None:
            return None
        return users.get(identity if isinstance(identity, str) else str(identity))

    def hooks(self) -> dict[str, Callable[[Mapping[str, Any]], Any]]:
        """Both hooks, to pass as ``JWTCookieMiddleware(app, ..., **store.hooks())``."""
        return {"is_revoked": self.is_revoked, "user_not_before": self.user_not_before}

    @property
    def synced(self) -> bool:
        """Whether this process follows Redis right now (subscribed, loaded, written back)."""
        return self._synced

    @property
    def staleness(self) -> float:
        """Seconds since Redis last confirmed the local copy whole (``inf`` before the first)."""
        return time.monotonic() - self._confirmed_at

    def __len__(self) -> int:
        """Entries held in this process's memory."""
        return len(self._replica)

    # -- revoking ---------------------------------------------------------------------------

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
        entry = (USER, _user_id(user_id), self._clock() if at is None else _timestamp(at))
        return self._send(entry) if self._record(entry) else True

    async def revoke_session_async(self, sid: str) -> bool:
        """``revoke_session`` on ``redis.asyncio``, for ``async def`` handlers."""
        entry = (SESSION, _session_id(sid), self._clock())
        return await self._send_async(entry) if self._record(entry) else True

    async def revoke_user_async(
        self, user_id: str | int, at: float | datetime | None = None
    ) -> bool:
        """``revoke_user`` on ``redis.asyncio``, for ``async def`` handlers."""
        entry = (USER, _user_id(user_id), self._clock() if at is None else _timestamp(at))
        return await self._send_async(entry) if self._record(entry) else True

    def _record(self, entry: Entry) -> bool:
        """Apply a revocation here first; False when it can no longer refuse any token."""
        kind, ident, at = entry
        if self._replica.expires_at(at) <= self._clock():
            return False
        self._replica.add(kind, ident, at)
        return True

    def _send(self, entry: Entry) -> bool:
        try:
            self._raise(keys=[self._key(entry)], args=self._raise_args(entry, publish=True))
        except REDIS_ERRORS as error:
            return self._unconfirmed(entry, error)
        return True

    async def _send_async(self, entry: Entry) -> bool:
        try:
            script = self._async_script()
            await script(keys=[self._key(entry)], args=self._raise_args(entry, publish=True))
        except REDIS_ERRORS as error:
            return self._unconfirmed(entry, error)
        return True

    def _unconfirmed(self, entry: Entry, error: BaseException) -> bool:
        kind, ident, at = entry
        self._unsent[(kind, ident)] = at
        log.warning(
            "jwtcookie: Redis did not take a revocation (%s); this process refuses it now and "
            "writes it to Redis when it is back.",
            type(error).__name__,
        )
        return False

    def _key(self, entry: Entry) -> str:
        return f"{self._prefix}:{entry[0]}:{entry[1]}"

    def _raise_args(self, entry: Entry, *, publish: bool) -> list[Any]:
        at = entry[2]
        ttl_ms = max(1, math.ceil((self._replica.expires_at(at) - self._clock()) * 1000))
        if not publish:
            return [repr(at), ttl_ms, "", ""]
        return [repr(at), ttl_ms, self._channel, json.dumps([entry])]

    # -- following Redis --------------------------------------------------------------------

    def start(self, *, wait: bool = True) -> bool:
        """Follow Redis from this process (again after a fork); whether the copy is synced.

        With ``wait``, the first start waits up to ``timeout`` for the first full load, so a
        fresh worker does not answer from an empty copy. Lookups call this on first use; call
        it yourself at start-up (a lifespan handler, gunicorn's ``post_fork``) to wait there.
        """
        if self._pid != os.getpid() and not self._closed:
            with _ThisProcess.start_lock:
                if self._pid != os.getpid():
                    self._start_follower()
                    if wait:
                        self._first_sync.wait(self._timeout)
                    self._pid = os.getpid()
        return self._synced

    def _follow_in_this_process(self) -> None:
        """First use in this process, a fork, or time for a real pid check."""
        self._countdown = PID_CHECK_EVERY
        _ThisProcess.pid = os.getpid()
        if self._pid != _ThisProcess.pid:
            self.start()

    def _start_follower(self) -> None:
        if self._pid is not None:  # forked: the parent's thread, lock and clients are not ours
            self._replica.after_fork()
            self._async = {}
            self._synced = False
        self._stop = threading.Event()
        self._first_sync = threading.Event()
        self._thread = threading.Thread(
            target=self._follow, args=(self._stop,), name="jwtcookie-redis", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop following Redis; lookups keep answering from the last copy."""
        self._closed = True
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._timeout + 1)
        self._client.close()
        pool = getattr(self._client, "connection_pool", None)  # a Sentinel client keeps its pool
        if pool is not None:
            pool.disconnect()

    async def aclose(self) -> None:
        """``close``, and the ``redis.asyncio`` client of the running event loop."""
        await self._close_async_client()
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    async def _close_async_client(self) -> None:
        loop = asyncio.get_running_loop()
        found = self._async.pop(id(loop), None)
        if found is None or found[0] is not loop:
            return
        client = found[1]
        closing = getattr(client, "aclose", None) or client.close  # aclose: redis >= 5.0.1
        if "close_connection_pool" in inspect.signature(closing).parameters:
            await closing(close_connection_pool=True)  # a Sentinel client's pool is its own
        else:
            await closing()

    def __enter__(self) -> RedisRevocations:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def forget_expired(self) -> int:
        """Drop local entries no token can need any more (the follower does it every 30 s)."""
        return self._replica.forget_expired()

    def _follow(self, stop: threading.Event) -> None:
        """The follower thread: subscribe, resync, apply messages; on any failure, again."""
        backoff = FIRST_BACKOFF
        while not stop.is_set():
            try:
                self._follow_subscription(stop)
            except REDIS_ERRORS as error:
                if not self._lost:
                    log.warning(
                        "jwtcookie: lost Redis (%s); answering from the last known revocations "
                        "while reconnecting.",
                        type(error).__name__,
                    )
            except Exception:  # a bug must not stop revocation from following: log, go on
                log.exception("jwtcookie: the Redis follower failed; restarting it.")
            self._lost = True
            if self._synced and time.monotonic() - self._synced_since > STEADY_SECONDS:
                backoff = FIRST_BACKOFF  # a fresh outage after a steady connection
            self._synced = False
            stop.wait(backoff * random.uniform(0.5, 1.0))  # noqa: S311  # jitter, not a secret
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _follow_subscription(self, stop: threading.Event) -> None:
        """Follow one subscription until it fails; heartbeats prove it still delivers.

        A heartbeat is published to a channel only this process hears: once it arrives, every
        revocation published before it has arrived too (Redis delivers in order), so the copy
        was whole when it was sent. PING would do, but its reply differs by RESP version.
        """
        pubsub = self._client.pubsub()
        beat_channel = f"{self._prefix}:heartbeat:{os.urandom(8).hex()}"
        try:
            pubsub.subscribe(self._channel, beat_channel)
            beat_sent: float | None = None
            next_beat = next_epoch = time.monotonic() + self._heartbeat
            next_sweep = time.monotonic() + SWEEP_SECONDS
            while not stop.is_set():
                message = pubsub.get_message(timeout=min(self._heartbeat / 2, 0.2))
                if message is not None:
                    kind, channel = _text(message.get("type")), _text(message.get("channel"))
                    if channel == beat_channel:
                        if kind == "message" and beat_sent is not None:
                            if self._synced:
                                self._confirmed_at = max(self._confirmed_at, beat_sent)
                            beat_sent = None
                    elif kind == "subscribe":  # a new subscription: what came before is unknown
                        self._resync()
                    elif kind == "message":
                        self._apply(message.get("data"))
                now = time.monotonic()
                if beat_sent is not None and now - beat_sent > self._timeout:
                    raise redis.ConnectionError("Redis did not deliver a heartbeat in time")
                if now >= next_epoch and self._synced:
                    if self._read_epoch() != self._epoch:
                        self._resync()  # emptied without a disconnect: FLUSHALL, say
                    next_epoch = now + HEARTBEAT
                if now >= next_beat and beat_sent is None:
                    beat_sent = time.monotonic()
                    self._client.publish(beat_channel, "beat")
                    next_beat = beat_sent + self._heartbeat
                if self._unsent and self._synced:
                    self._send_unsent()
                if now >= next_sweep:
                    self.forget_expired()
                    next_sweep = now + SWEEP_SECONDS
        finally:
            with contextlib.suppress(*REDIS_ERRORS):
                pubsub.close()

    def _resync(self) -> None:
        """Load every entry from Redis, then write back what this copy has and Redis lacks."""
        self._synced = False
        started = time.monotonic()
        self._unsent.clear()  # all of them are in the copy: the write-back covers them
        self._client.set(self._epoch_key, os.urandom(8).hex(), nx=True)
        epoch = self._read_epoch()
        in_redis = self._load()
        missing = [
            entry
            for entry in self._replica.entries()
            if in_redis[entry[0]].get(entry[1], -math.inf) < entry[2]
        ]
        if missing:
            self._write_back(missing)
        self._epoch = epoch
        self._confirmed_at = started
        self._synced, self._synced_since = True, time.monotonic()
        self._first_sync.set()
        if self._lost:
            log.warning("jwtcookie: Redis is back; revocations resynced.")
            self._lost = False

    def _read_epoch(self) -> str | None:
        value = self._client.get(self._epoch_key)
        return None if value is None else _text(value)

    def _load(self) -> dict[Kind, dict[str, float]]:
        found: dict[Kind, dict[str, float]] = {SESSION: {}, USER: {}}
        keys: list[str] = []
        for key in self._client.scan_iter(match=self._pattern, count=BATCH):
            keys.append(_text(key))
            if len(keys) >= BATCH:
                self._read(keys, found)
                keys = []
        if keys:
            self._read(keys, found)
        return found

    def _read(self, keys: list[str], found: dict[Kind, dict[str, float]]) -> None:
        pipeline = self._client.pipeline(transaction=False)
        for key in keys:
            pipeline.get(key)
        skip = len(self._prefix) + 1
        for key, value in zip(keys, pipeline.execute(), strict=True):
            at, letter = _number(value), key[skip : skip + 1]
            kind = SESSION if letter == SESSION else USER if letter == USER else None
            if at is None or kind is None:
                continue  # expired between SCAN and GET, or not ours
            ident = key[skip + 2 :]
            found[kind][ident] = at
            self._replica.add(kind, ident, at)

    def _write_back(self, entries: list[Entry]) -> None:
        """Restore entries Redis lost; publish those it really lacked, in batches."""
        restored = 0
        for start in range(0, len(entries), BATCH):
            chunk = entries[start : start + BATCH]
            pipeline = self._client.pipeline(transaction=False)
            for entry in chunk:
                # EVAL, not EVALSHA: a cluster pipeline refuses EVALSHA, and this path is rare.
                args = self._raise_args(entry, publish=False)
                pipeline.execute_command("EVAL", RAISE_SCRIPT, 1, self._key(entry), *args)
            changed = [
                entry for entry, done in zip(chunk, pipeline.execute(), strict=True) if done == 1
            ]
            if changed:
                self._client.publish(self._channel, json.dumps(changed))
                restored += len(changed)
        if restored:
            log.warning(
                "jwtcookie: wrote %d revocations back to Redis (made while it was away, or lost "
                "in a restart).",
                restored,
            )

    def _send_unsent(self) -> None:
        while self._unsent:
            try:
                (kind, ident), at = self._unsent.popitem()
            except KeyError:  # a resync emptied it meanwhile
                return
            entry = (kind, ident, at)
            try:
                self._raise(keys=[self._key(entry)], args=self._raise_args(entry, publish=True))
            except REDIS_ERRORS:
                self._unsent.setdefault((kind, ident), at)
                return  # the next tick, or the resync after reconnecting, tries again

    def _apply(self, data: object) -> None:
        try:
            entries = json.loads(_text(data))
            for kind, ident, at in entries:
                number = _number(at)
                if kind in KINDS and isinstance(ident, str) and number is not None:
                    self._replica.add(kind, ident, number)
        except (ValueError, TypeError):
            log.warning("jwtcookie: ignored a malformed message on %s.", self._channel)

    # -- clients ----------------------------------------------------------------------------

    def _async_script(self) -> AsyncScript:
        loop = asyncio.get_running_loop()
        found = self._async.get(id(loop))
        if found is None or found[0] is not loop:
            if self._connect_async is not None:
                client = self._connect_async(self._client_options())
            elif self._url is not None:
                client = redis.asyncio.Redis.from_url(self._url, **self._client_options())
            else:
                raise TypeError(
                    "jwtcookie: the async revocations need connect_async= beside connect=: "
                    "a function that builds the redis.asyncio twin of the same client."
                )
            found = self._async[id(loop)] = (loop, client, client.register_script(RAISE_SCRIPT))
        return found[2]

    def _client_options(self) -> dict[str, Any]:
        return {
            "decode_responses": True,
            "socket_timeout": self._timeout,
            "socket_connect_timeout": self._timeout,
            "retry": Retry(NoBackoff(), 0),  # the follower retries, with backoff and a resync
        }


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


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _number(value: object) -> float | None:
    """A finite number from Redis or a message, else None."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


__all__ = ["RedisRevocations"]
