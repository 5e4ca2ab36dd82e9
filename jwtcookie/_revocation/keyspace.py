"""How revocations sit in Redis: one key per entry, a script that writes and announces it.

Keys: ``{prefix}:s:{sid}`` and ``{prefix}:u:{user id}``, each holding the entry's time (when
the session was revoked, or the user's not-before) and expiring when no token it could refuse
is left. Messages on ``{prefix}:revocations`` are JSON lists of ``[kind, id, time]``.
``{prefix}:epoch`` holds a random value while Redis keeps its data; gone or changed, Redis
lost it. Shared by ``jwtcookie.redis`` (revoking) and ``jwtcookie._revocation.follower`` (reading).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from jwtcookie._revocation.memory import KINDS, SESSION, USER, Entry, Kind

# RedisClusterException is no RedisError: a cluster with every node down raises it.
REDIS_ERRORS = (redis.RedisError, redis.exceptions.RedisClusterException, OSError)

# KEYS[1] the entry; ARGV: time, expiry in ms, channel ("" for none), message.
# Keeps the later time (an entry never moves back), and publishes only what changed, in the
# same atomic step as the write, so a subscriber never hears of a key that is not there.
SET_IF_LATER_SCRIPT = """
local known = redis.call('GET', KEYS[1])
if known and tonumber(known) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return 1
"""

# ARGV: SCAN cursor, match pattern, count. One reply per step of a full load (SCAN, then MGET:
# {next cursor, JSON [key, value, ...]}), not one per key; nil for a key expired meanwhile.
LOAD_SCRIPT = """
local found = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
local keys, out = found[2], {}
for first = 1, #keys, 500 do
  local last = math.min(first + 499, #keys)
  local values = redis.call('MGET', unpack(keys, first, last))
  for i = first, last do
    local value = values[i - first + 1]
    if value then
      out[#out + 1] = keys[i]
      out[#out + 1] = value
    end
  end
end
if #out == 0 then return {found[1], '[]'} end
return {found[1], cjson.encode(out)}
"""


class RedisKeyspace:
    """Key, channel and argument names for one ``prefix``, and how long an entry lives."""

    def __init__(self, prefix: str, lifetime: float, clock: Callable[[], float]) -> None:
        self.prefix = prefix
        self.lifetime = lifetime  # max_age + leeway: no token an entry refuses outlives it
        self.clock = clock
        self.channel = f"{prefix}:revocations"
        self.epoch_key = f"{prefix}:epoch"
        self.pattern = f"{prefix}:[{''.join(KINDS)}]:*"

    def key(self, entry: Entry) -> str:
        return f"{self.prefix}:{entry[0]}:{entry[1]}"

    def entry_of(self, key: str, value: object) -> Entry | None:
        """The entry a key and its value hold; None for another key, or one just expired."""
        skip = len(self.prefix) + 1
        letter, at = key[skip : skip + 1], number(value)
        kind: Kind | None = SESSION if letter == SESSION else USER if letter == USER else None
        if kind is None or at is None or key[skip + 1 : skip + 2] != ":":
            return None
        return kind, key[skip + 2 :], at

    def entries_into(self, flat: list[Any], found: dict[Kind, dict[str, float]]) -> None:
        """``entry_of`` for each of ``LOAD_SCRIPT``'s ``[key, value, ...]``, the later time
        kept per id; inline, as a fresh worker reads 100,000 of them before it may answer."""
        skip = len(self.prefix) + 1
        tables = {
            f"{self.prefix}:{SESSION}:": found[SESSION],
            f"{self.prefix}:{USER}:": found[USER],
        }
        isfinite = math.isfinite
        for index in range(0, len(flat) - 1, 2):
            key, value = flat[index], flat[index + 1]
            table = tables.get(key[: skip + 2]) if isinstance(key, str) else None
            if table is None or not isinstance(value, str):
                continue
            try:
                at = float(value)
            except ValueError:
                continue
            ident = key[skip + 2 :]
            if isfinite(at) and table.get(ident, -math.inf) < at:
                table[ident] = at

    def heartbeat_channel(self) -> str:
        """A channel only one subscription hears (see ``Follower``)."""
        return f"{self.prefix}:heartbeat:{os.urandom(8).hex()}"

    def raise_args(self, entry: Entry, *, publish: bool) -> list[Any]:
        """``SET_IF_LATER_SCRIPT``'s arguments: expire when the entry's last token would."""
        at = entry[2]
        ttl_ms = max(1, math.ceil((at + self.lifetime - self.clock()) * 1000))
        if not publish:
            return [repr(at), ttl_ms, "", ""]
        return [repr(at), ttl_ms, self.channel, message([entry])]


def message(entries: list[Entry]) -> str:
    return json.dumps(entries)


def entries_of(data: object) -> list[Entry]:
    """The entries of a message; ValueError when it is not one of ours."""
    found: list[Entry] = []
    for kind, ident, at in json.loads(text(data)):
        when = number(at)
        if kind not in KINDS or not isinstance(ident, str) or when is None:
            raise ValueError("not a revocation")
        found.append((SESSION if kind == SESSION else USER, ident, when))
    return found


def client_options(timeout: float, *, decode: bool = True) -> dict[str, Any]:
    """What every client the store uses is built with (``connect=`` receives these too).

    The subscriber's client does not decode (``decode=False``): redis-py decodes inside its
    reader, so a message that is not UTF-8 would raise there and drop the subscription.
    """
    return {
        "decode_responses": decode,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),  # the follower retries, with backoff and a resync
    }


def text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def number(value: object) -> float | None:
    """A finite number from Redis or a message, else None."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        found = float(value)
    except (ValueError, OverflowError):
        return None
    return found if math.isfinite(found) else None
