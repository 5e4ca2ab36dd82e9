"""A process's copy of the revocations: plain dicts read on the request path, bounded by expiry.

Knows nothing of Redis (``jwtcookie.redis`` fills it), so its rules can be read and tested
alone: what an entry is, when it stops mattering, and how two copies of it merge.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterator
from typing import Literal

Kind = Literal["s", "u"]
SESSION: Kind = "s"  # a revoked session id (`sid`); its time is when it was revoked
USER: Kind = "u"  # a user id; its time is the not-before ("log out everywhere")
KINDS: tuple[Kind, ...] = (SESSION, USER)
Entry = tuple[Kind, str, float]  # (kind, session or user id, time)

# Expired entries are forgotten in one-minute buckets: a list slot per entry (8 bytes) costs far
# less than a heap entry per entry, and a minute of extra life changes no answer (below).
BUCKET_SECONDS = 60
COMPACT_FROM = 1024  # entries a table must have held before a sweep copies it smaller


class RevocationCache:
    """Revoked sessions and users' not-before times, each kept while a token could need it.

    An entry at time ``t`` can affect tokens only until ``t + lifetime`` (``max_age`` plus
    clock skew): a session revoked at ``t`` has no token that lives longer, and a token issued
    before a not-before ``t`` is expired by then. Past that, keeping the entry changes no answer,
    so it is forgotten only to bound memory.

    Writes keep the later time of old and new, so they commute: the same revocations in any
    order, repeats included, give the same copy. That is what lets a full reload from Redis
    race with pub/sub messages. Reads are lock-free dict lookups; writes take a lock.
    """

    def __init__(self, lifetime: float, clock: Callable[[], float]) -> None:
        self.lifetime = lifetime
        self.clock = clock
        # Read on the request path. A sweep may swap in a compacted copy, so hold the table,
        # never these dicts: a reader then sees the old table or the new, each complete.
        self.sessions: dict[str, float] = {}
        self.users: dict[str, float] = {}
        self._largest = {SESSION: 0, USER: 0}
        # bucket number -> (session ids, user ids) that expire before the bucket's time.
        self._buckets: dict[int, tuple[list[str], list[str]]] = {}
        self._bucket_heap: list[int] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.sessions) + len(self.users)

    def expires_at(self, at: float) -> float:
        return at + self.lifetime

    def add(self, kind: Kind, ident: str, at: float) -> bool:
        """Record ``ident`` at ``at`` unless a later time is known; whether anything changed."""
        with self._lock:
            return self._put(kind, ident, at, self.clock())

    def add_loaded(self, kind: Kind, loaded: dict[str, float]) -> None:
        """``add`` for each of a full load's entries of one kind, under one lock (a fresh
        worker loads 100,000 of them before it may answer)."""
        now = self.clock()
        put = self._put
        with self._lock:
            for ident, at in loaded.items():
                put(kind, ident, at, now)

    def _put(self, kind: Kind, ident: str, at: float, now: float) -> bool:
        expires = at + self.lifetime
        if expires <= now:
            return False  # no token it could refuse is still alive
        if at > now + self.lifetime:
            return False  # not ours (revoke_user refuses such times): it would never expire
        table = self.sessions if kind == SESSION else self.users
        known = table.get(ident)
        if known is not None and known >= at:
            return False
        table[ident] = at
        bucket = int(expires // BUCKET_SECONDS) + 1
        lists = self._buckets.get(bucket)
        if lists is None:
            lists = self._buckets[bucket] = ([], [])
            heapq.heappush(self._bucket_heap, bucket)
        lists[0 if kind == SESSION else 1].append(ident)
        return True

    def entries(self) -> Iterator[Entry]:
        """Every entry still alive (a snapshot: safe while others write)."""
        now = self.clock()
        for kind in KINDS:
            with self._lock:
                items = list((self.sessions if kind == SESSION else self.users).items())
            for ident, at in items:
                if at + self.lifetime > now:
                    yield kind, ident, at

    def forget_expired(self) -> int:
        """Drop entries no token can need any more; how many were dropped."""
        now = self.clock()
        dropped = 0
        with self._lock:
            self._largest[SESSION] = max(self._largest[SESSION], len(self.sessions))
            self._largest[USER] = max(self._largest[USER], len(self.users))
            while self._bucket_heap and self._bucket_heap[0] * BUCKET_SECONDS <= now:
                lists = self._buckets.pop(heapq.heappop(self._bucket_heap))
                for table, idents in ((self.sessions, lists[0]), (self.users, lists[1])):
                    for ident in idents:
                        at = table.get(ident)
                        # A later revocation of the same id lives on (it sits in a later bucket).
                        if at is not None and at + self.lifetime <= now:
                            del table[ident]
                            dropped += 1
            # A dict never shrinks its table as keys go; after a flood has expired, copy it.
            if self._shrunk(SESSION, len(self.sessions)):
                self.sessions = dict(self.sessions)
            if self._shrunk(USER, len(self.users)):
                self.users = dict(self.users)
        return dropped

    def _shrunk(self, kind: Kind, size: int) -> bool:
        """Whether a table is down to a quarter of its largest (small ones are not worth it)."""
        if self._largest[kind] < COMPACT_FROM or size * 4 > self._largest[kind]:
            return False
        self._largest[kind] = size
        return True

    def after_fork(self) -> None:
        """A fresh lock for a forked child: another thread may have held the parent's."""
        self._lock = threading.Lock()
