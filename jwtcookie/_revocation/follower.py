"""The thread that keeps one process's copy of the revocations in step with Redis.

Subscribe first, then load everything (``SCAN``), so nothing falls between the two; write
back what the copy has and Redis lacks; apply each message as it comes; publish a heartbeat
to a channel only this subscription hears, whose arrival proves every earlier message arrived.
On any failure: keep the copy, wait (bounded, jittered backoff), and start again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import random
import threading
import time
from typing import Any

import redis
from redis.commands.core import Script

from jwtcookie._revocation.keyspace import (
    LOAD_SCRIPT,
    REDIS_ERRORS,
    SET_IF_LATER_SCRIPT,
    RedisKeyspace,
    entries_of,
    message,
    text,
)
from jwtcookie._revocation.memory import KINDS, SESSION, USER, Entry, Kind, RevocationCache

FIRST_BACKOFF = 0.05  # seconds before the first reconnection attempt
MAX_BACKOFF = 2.0  # reconnection attempts never wait longer (with jitter, so workers spread)
STEADY_SECONDS = 10.0  # a connection that lasted this long starts a new outage at FIRST_BACKOFF
EPOCH_SECONDS = 1.0  # how often to check that Redis still has its data (FLUSHALL, say)
SWEEP_SECONDS = 30.0  # how often to forget expired entries
BATCH = 1000  # keys per pipelined GETs and write-backs, entries per message
LOAD_STEP = 2000  # keys per step of LOAD_SCRIPT: about a millisecond of Redis's time each

log = logging.getLogger("jwtcookie.redis")


class Follower:
    """One process's follower: its thread, and what it knows of Redis's state."""

    def __init__(
        self,
        client: Any,
        subscriber: Any,
        script: Script,
        cache: RevocationCache,
        keyspace: RedisKeyspace,
        *,
        timeout: float,
        heartbeat: float,
    ) -> None:
        self.client = client
        self.subscriber = subscriber  # the same Redis, replies left undecoded (client_options)
        self.script = script  # SET_IF_LATER_SCRIPT, registered on client
        self.cache = cache
        self.keyspace = keyspace
        self.timeout = timeout
        self.heartbeat = heartbeat
        self.synced = False  # subscribed, loaded and written back
        self.loaded = False  # the copy has held every entry in Redis at least once
        self.confirmed_at = -math.inf  # monotonic time as of which the copy was whole
        self.unsent: dict[tuple[Kind, str], float] = {}  # revocations Redis has not confirmed
        # Set by the first full load, or by the first failure before one: start() waits on it.
        self.first_try = threading.Event()
        # A cluster spreads the keys over nodes that one script cannot SCAN together.
        self._load_script = (
            None if hasattr(client, "get_nodes") else client.register_script(LOAD_SCRIPT)
        )
        self.thread: threading.Thread | None = None
        self._synced_since = -math.inf
        self._epoch: str | None = None
        self._lost = False
        self._stop = threading.Event()

    def start(self) -> None:
        self.thread = threading.Thread(target=self._follow, name="jwtcookie-redis", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.timeout + 1)

    def unconfirmed(self, entry: Entry) -> None:
        """A revocation Redis did not take: retried while subscribed, healed on resync."""
        self.unsent[(entry[0], entry[1])] = entry[2]

    def _follow(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._stop.is_set():
            try:
                self._follow_subscription()
            except REDIS_ERRORS as error:
                if not self._lost:
                    log.warning(
                        "jwtcookie: lost Redis (%s); %s while reconnecting.",
                        type(error).__name__,
                        "answering from the last known revocations"
                        if self.loaded
                        else "answering unavailable until every revocation is loaded",
                    )
            except Exception:  # a bug must not stop revocation from following: log, go on
                log.exception("jwtcookie: the Redis follower failed; restarting it.")
            self.first_try.set()
            self._lost = True
            if self.synced and time.monotonic() - self._synced_since > STEADY_SECONDS:
                backoff = FIRST_BACKOFF
            self.synced = False
            self._stop.wait(backoff * random.uniform(0.5, 1.0))  # noqa: S311  # jitter
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _follow_subscription(self) -> None:
        """Follow one subscription until it fails or the follower stops.

        The heartbeat goes through pub/sub, not PING: PING's reply in a subscription differs
        by RESP version and redis-py misreads one of them.
        """
        pubsub = self.subscriber.pubsub()
        beat_channel = self.keyspace.heartbeat_channel()
        try:
            pubsub.subscribe(self.keyspace.channel, beat_channel)
            beat_sent: float | None = None
            next_beat = next_epoch = time.monotonic() + self.heartbeat
            next_sweep = time.monotonic() + SWEEP_SECONDS
            while not self._stop.is_set():
                got = pubsub.get_message(timeout=min(self.heartbeat / 2, 0.2))
                if got is not None:
                    kind, channel = text(got.get("type")), text(got.get("channel"))
                    if channel == beat_channel:
                        if kind == "message" and beat_sent is not None:
                            if self.synced:
                                self.confirmed_at = max(self.confirmed_at, beat_sent)
                            beat_sent = None
                    elif kind == "subscribe":
                        self._resync()
                    elif kind == "message":
                        self._apply(got.get("data"))
                now = time.monotonic()
                if beat_sent is not None and now - beat_sent > self.timeout:
                    raise redis.ConnectionError("Redis did not deliver a heartbeat in time")
                if now >= next_epoch and self.synced:
                    if self._read_epoch() != self._epoch:
                        self._resync()
                    next_epoch = now + EPOCH_SECONDS
                if now >= next_beat and beat_sent is None:
                    beat_sent = time.monotonic()
                    self.client.publish(beat_channel, "beat")
                    next_beat = beat_sent + self.heartbeat
                if self.unsent and self.synced:
                    self._send_unsent()
                if now >= next_sweep:
                    self.cache.forget_expired()
                    next_sweep = now + SWEEP_SECONDS
        finally:
            with contextlib.suppress(*REDIS_ERRORS):
                pubsub.close()

    def _resync(self) -> None:
        """Load every entry from Redis, then write back what this copy has and Redis lacks."""
        self.synced = False
        started = time.monotonic()
        self.unsent.clear()  # all of them are in the copy: the write-back covers them
        self.client.set(self.keyspace.epoch_key, os.urandom(8).hex(), nx=True)
        epoch = self._read_epoch()
        in_redis = self._load()
        missing = [
            entry
            for entry in self.cache.entries()
            if in_redis[entry[0]].get(entry[1], -math.inf) < entry[2]
        ]
        if missing:
            self._write_back(missing)
        self._epoch = epoch
        self.confirmed_at = started
        self.synced, self._synced_since = True, time.monotonic()
        self.loaded = True
        self.first_try.set()
        if self._lost:
            log.warning("jwtcookie: Redis is back; revocations resynced.")
            self._lost = False

    def _read_epoch(self) -> str | None:
        value = self.client.get(self.keyspace.epoch_key)
        return None if value is None else text(value)

    def _load(self) -> dict[Kind, dict[str, float]]:
        found: dict[Kind, dict[str, float]] = {SESSION: {}, USER: {}}
        if self._load_script is not None:
            cursor: object = 0
            while True:  # bounded: SCAN ends, whatever is written meanwhile
                cursor, pairs = self._load_script(args=[cursor, self.keyspace.pattern, LOAD_STEP])
                self.keyspace.entries_into(json.loads(text(pairs)), found)
                if text(cursor) == "0":
                    break
            for kind in KINDS:
                self.cache.add_loaded(kind, found[kind])
            return found
        keys: list[str] = []
        for key in self.client.scan_iter(match=self.keyspace.pattern, count=BATCH):
            keys.append(text(key))
            if len(keys) >= BATCH:
                self._read(keys, found)
                keys = []
        if keys:
            self._read(keys, found)
        return found

    def _read(self, keys: list[str], found: dict[Kind, dict[str, float]]) -> None:
        pipeline = self.client.pipeline(transaction=False)
        for key in keys:
            pipeline.get(key)
        for key, value in zip(keys, pipeline.execute(), strict=True):
            self._found(self.keyspace.entry_of(key, value), found)

    def _found(self, entry: Entry | None, found: dict[Kind, dict[str, float]]) -> None:
        if entry is not None:  # None: expired between SCAN and GET
            kind, ident, at = entry
            found[kind][ident] = at
            self.cache.add(kind, ident, at)

    def _write_back(self, entries: list[Entry]) -> None:
        """Restore entries Redis lacks; publish those it really lacked, in batches."""
        restored = 0
        for start in range(0, len(entries), BATCH):
            chunk = entries[start : start + BATCH]
            pipeline = self.client.pipeline(transaction=False)
            for entry in chunk:
                # EVAL, not EVALSHA: a cluster pipeline refuses EVALSHA, and this path is rare.
                args = self.keyspace.raise_args(entry, publish=False)
                pipeline.execute_command(
                    "EVAL", SET_IF_LATER_SCRIPT, 1, self.keyspace.key(entry), *args
                )
            results = pipeline.execute(raise_on_error=False)  # one refused entry skips alone
            changed = [entry for entry, done in zip(chunk, results, strict=True) if done == 1]
            if changed:
                self.client.publish(self.keyspace.channel, message(changed))
                restored += len(changed)
        if restored:
            log.warning(
                "jwtcookie: wrote %d revocations back to Redis (made while it was away, or lost "
                "by it).",
                restored,
            )

    def _send_unsent(self) -> None:
        while self.unsent:
            try:
                (kind, ident), at = self.unsent.popitem()
            except KeyError:
                return
            entry = (kind, ident, at)
            try:
                args = self.keyspace.raise_args(entry, publish=True)
                self.script(keys=[self.keyspace.key(entry)], args=args)
            except REDIS_ERRORS:
                self.unsent.setdefault((kind, ident), at)
                return

    def _apply(self, data: object) -> None:
        try:
            entries = entries_of(data)
        except (ValueError, TypeError, RecursionError):
            log.warning("jwtcookie: ignored a malformed message on %s.", self.keyspace.channel)
            return
        for kind, ident, at in entries:
            self.cache.add(kind, ident, at)

    @property
    def staleness(self) -> float:
        return time.monotonic() - self.confirmed_at
