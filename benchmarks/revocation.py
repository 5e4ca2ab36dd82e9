"""Revocation through Redis: what it adds per request, how fast it spreads, what it holds.

``python -m benchmarks.revocation`` starts its own ``redis-server`` (Debian's, on a free
127.0.0.1 port, no persistence) and measures, in one run:

- **Per request**: a bare WSGI and a bare ASGI app, bare and wrapped by jwtcookie with no
  store, with the store as ``revocations=store`` (local lookups, the way to wire it), with
  the store's two plain hooks (``**store.hooks()``, the alternative), and with a naive
  ``is_revoked`` that sends a Redis ``GET`` per request (what Flask-JWT-Extended's docs show;
  ``redis.asyncio`` on ASGI). The token carries a ``sid``, as every token jwtcookie issues.
  As in ``inprocess.py``: a valid, cached token repeated; every variant once per round in a
  shuffled order; added times and ratios taken within a round, medians reported. Unlike
  ``inprocess.py``, time is wall time (``perf_counter``): a network hook's cost is mostly
  waiting, which CPU time would not count.
- **Propagation**: ``revoke_session`` in this process until ``is_revoked`` is true in each of
  ``--peers`` other processes (each its own store, polling every 50 µs), over
  ``--revocations`` revocations: p50, p99, max.
- **Memory and a flood**: ``--flood`` sessions revoked one by one; Redis's ``used_memory``
  per entry; a fresh worker's load time and its bytes per entry (``tracemalloc``); the same
  copy after its entries expire (an injected clock); and a short-lived flood expiring in
  Redis on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import redis
import redis.asyncio

from benchmarks import apps
from benchmarks.inprocess import (
    Batch,
    Variant,
    _environ,
    _receive,
    _scope,
    _send,
    _start_response,
    calibrate,
    run_rounds,
)
from jwtcookie._revocation.memory import BUCKET_SECONDS
from jwtcookie.redis import RedisRevocations
from tests.redis_server import REDIS_SERVER, Peer, RedisServer, redis_server

WEEK = 7 * 24 * 3600
PROPAGATION_TARGET_P99_MS = 50.0  # one machine; see docs/scaling-out.md for why


# -- per request ---------------------------------------------------------------------------


def wsgi_batch(app: Any, header: str) -> Batch:
    environ = _environ(header)

    def run(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            body = app(environ.copy(), _start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return time.perf_counter() - started

    return run


def asgi_batch(loop: asyncio.AbstractEventLoop, app: Any, header: str) -> Batch:
    scope = _scope(header)

    async def run(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            await app(dict(scope), _receive, _send)
        return time.perf_counter() - started

    return lambda n: loop.run_until_complete(run(n))


def per_request(
    url: str, store: RedisRevocations, rounds: int, batch_ms: float
) -> list[tuple[str, str, float]]:
    """Rows of (flavour, what, µs): added over the bare app, and the hooks' own share."""
    loop = asyncio.new_event_loop()
    sync_client = redis.Redis.from_url(url)
    async_client = redis.asyncio.Redis.from_url(url)

    def naive_is_revoked(claims: Any) -> bool:
        return sync_client.get(f"revoked:{claims['sid']}") is not None

    async def naive_is_revoked_async(claims: Any) -> bool:
        return await async_client.get(f"revoked:{claims['sid']}") is not None

    token = apps.jwtcookie(apps.bare_wsgi).issue({"_id": "65f0c0ffee", "username": "user1"})
    header = apps.cookie_header(token)
    variants: list[Variant] = []
    hooks: dict[str, dict[str, Any]] = {
        "none": {},
        "trivial": {"is_revoked": _never, "user_not_before": _no_time},
        "option": {"revocations": store},
        "store": store.hooks(),
        "naive": {"is_revoked": naive_is_revoked},
    }
    for flavour, bare, drive in (
        ("wsgi", apps.bare_wsgi, wsgi_batch),
        ("asgi", apps.bare_asgi, lambda app, h: asgi_batch(loop, app, h)),
    ):
        variants.append(Variant(f"{flavour}", f"bare {flavour.upper()} app", drive(bare, header)))
        for name, options in hooks.items():
            if flavour == "asgi" and name == "naive":
                options = {"is_revoked": naive_is_revoked_async}
            wrapped = apps.jwtcookie(bare, **options)
            variants.append(Variant(f"{flavour}+{name}", name, drive(wrapped, header)))
    try:
        calibrate(variants, batch_ms)
        run_rounds(variants, rounds, progress=False)
    finally:
        loop.run_until_complete(async_client.aclose())
        loop.close()
        sync_client.close()
    times = {variant.key: variant.times for variant in variants}

    def added(key: str, base: str) -> list[float]:
        return [a - b for a, b in zip(times[key], times[base], strict=True)]

    rows: list[tuple[str, str, float]] = []
    for flavour in ("wsgi", "asgi"):
        none = added(f"{flavour}+none", flavour)
        trivial = added(f"{flavour}+trivial", flavour)
        option = added(f"{flavour}+option", flavour)
        store_added = added(f"{flavour}+store", flavour)
        naive = added(f"{flavour}+naive", flavour)
        store_hooks = [a - b for a, b in zip(store_added, none, strict=True)]
        lookups = [a - b for a, b in zip(store_added, trivial, strict=True)]
        naive_hook = [a - b for a, b in zip(naive, none, strict=True)]
        option_own = [a - b for a, b in zip(option, none, strict=True)]
        median = statistics.median
        rows += [
            (flavour, "µs: bare app", median(times[flavour])),
            (flavour, "µs added: jwtcookie, no hooks", median(none)),
            (flavour, "µs added: jwtcookie + revocations=store", median(option)),
            (flavour, "µs: revocations=store, over no store", median(option_own)),
            (
                flavour,
                "ratio: revocations=store added / no store added",
                median([a / b for a, b in zip(option, none, strict=True)]),
            ),
            (
                flavour,
                "ratio: naive GET hook / revocations=store",
                median([a / b for a, b in zip(naive_hook, option_own, strict=True)]),
            ),
            (flavour, "µs added: jwtcookie + two do-nothing hooks", median(trivial)),
            (flavour, "µs added: jwtcookie + RedisRevocations hooks", median(store_added)),
            (flavour, "µs added: jwtcookie + naive GET hook", median(naive)),
            (flavour, "µs: the store's two hooks, over no hooks", median(store_hooks)),
            (flavour, "µs: the store's lookups, over do-nothing hooks", median(lookups)),
            (flavour, "µs: the naive GET hook, over no hooks", median(naive_hook)),
            (
                flavour,
                "ratio: store hooks added / no hooks added",
                median([a / b for a, b in zip(store_added, none, strict=True)]),
            ),
            (
                flavour,
                "ratio: naive GET added / no hooks added",
                median([a / b for a, b in zip(naive, none, strict=True)]),
            ),
            (
                flavour,
                "ratio: naive GET hook / store hooks",
                median([a / b for a, b in zip(naive_hook, store_hooks, strict=True)]),
            ),
        ]
    return rows


# -- propagation ---------------------------------------------------------------------------


def propagation(
    store: RedisRevocations, peers: list[Peer], count: int
) -> tuple[list[float], list[float]]:
    """Milliseconds from revoke_session here to is_revoked in each peer; and the call's own."""
    latencies: list[float] = []
    calls: list[float] = []
    run = random.getrandbits(32)
    for number in range(count):
        sid = f"propagation-{run}-{number}"
        for peer in peers:
            peer.send("watch", sid, 5)
        for peer in peers:
            assert peer.read() == "waiting"
        started = time.perf_counter()
        assert store.revoke_session(sid) is True
        calls.append((time.perf_counter() - started) * 1000)
        for peer in peers:
            seen = peer.read()
            assert seen is not None, f"a peer did not see {sid} within 5 s"
            latencies.append((seen - started) * 1000)
    return latencies, calls


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# -- memory and a flood --------------------------------------------------------------------


def used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def flood(server: RedisServer, store: RedisRevocations, peer: Peer, count: int) -> list[str]:
    lines: list[str] = []
    raw = redis.Redis.from_url(server.url)
    try:
        gc.collect()
        before = used_memory(raw)
        peer_before = peer.ask("len")
        started = time.perf_counter()
        for number in range(count):
            store.revoke_session(f"flood-{number:08d}-{random.getrandbits(40):010x}")
        elapsed = time.perf_counter() - started
        deadline = time.monotonic() + 60
        while peer.ask("len") < peer_before + count and time.monotonic() < deadline:
            time.sleep(0.01)
        caught_up = time.perf_counter() - started - elapsed
        per_key = (used_memory(raw) - before) / count
        sample = raw.scan(0, match="jwtcookie:s:flood-*", count=100)[1][0]
        lines += [
            f"flood: {count:,} revoke_session calls in {elapsed:.2f} s "
            f"({count / elapsed:,.0f}/s, one round trip each)",
            f"flood: a peer process held all of them {caught_up * 1000:.0f} ms after the last call",
            f"Redis: {per_key:.0f} bytes per entry (used_memory), "
            f"MEMORY USAGE of one key: {raw.memory_usage(sample)} bytes",
        ]
    finally:
        raw.close()

    clock = _Clock()
    loaded = RedisRevocations(server.url, clock=clock)
    try:
        started = time.perf_counter()
        assert loaded.start()
        lines.append(
            f"a fresh worker loads {len(loaded):,} entries (a SCAN + MGET script per 2,000 "
            f"keys) in {time.perf_counter() - started:.2f} s"
        )
    finally:
        loaded.close()
    lines.append(heal(server, len(store)))

    traced = RedisRevocations(server.url, clock=clock)
    try:
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        traced.start(wait=False)  # tracing slows the load past start()'s wait
        deadline = time.monotonic() + 300
        while not traced.synced and time.monotonic() < deadline:
            time.sleep(0.05)
        assert traced.synced
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base
        entries = len(traced)
        clock.now += WEEK + 10 + BUCKET_SECONDS
        dropped = traced.forget_expired()
        gc.collect()
        left = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        lines += [
            f"local copy: {held / entries:.0f} bytes per entry ({entries:,} entries, "
            f"{held / 2**20:.1f} MiB, tracemalloc)",
            f"local copy after max_age + leeway (injected clock): {dropped:,} dropped, "
            f"{len(traced)} left, {left / 2**10:.0f} KiB still held",
        ]
    finally:
        traced.close()
    return lines


def heal(server: RedisServer, entries: int) -> str:
    """FLUSHDB under running followers: how long until Redis holds every entry again."""
    raw = redis.Redis.from_url(server.url)
    try:
        raw.flushdb()
        started = time.perf_counter()
        deadline = time.monotonic() + 120
        # The entries, the epoch key, and nothing else lives in this database.
        while raw.dbsize() < entries + 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        return (
            f"after FLUSHDB, the followers (this process and the peers) wrote {raw.dbsize() - 1:,} "
            f"entries back in {time.perf_counter() - started:.2f} s"
        )
    finally:
        raw.close()


def redis_expiry(server: RedisServer, count: int) -> list[str]:
    """A flood of entries that live 5 s, in a database of their own: how soon Redis drops them."""
    url = server.url.rsplit("/", 1)[0] + "/1"
    raw = redis.Redis.from_url(url)
    store = RedisRevocations(url, max_age=5, leeway=0)
    try:
        before = used_memory(raw)
        script = store._raise
        started = time.perf_counter()
        for offset in range(0, count, 1000):
            pipeline = raw.pipeline(transaction=False)
            for number in range(offset, min(count, offset + 1000)):
                entry = ("s", f"short-{number}", time.time())
                args = store._layout.raise_args(entry, publish=False)
                script(keys=[store._layout.key(entry)], args=args, client=pipeline)
            pipeline.execute()
        written = time.perf_counter() - started
        peak = raw.dbsize()
        last_expiry = started + written + 5
        deadline = time.monotonic() + 120
        while raw.dbsize() > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        gone_after = time.perf_counter() - last_expiry
        return [
            f"Redis expiry: {peak:,} entries of 5 s written in {written:.2f} s; all gone "
            f"{gone_after:.2f} s after the last one's time; used_memory back to "
            f"{used_memory(raw) - before:+,} bytes of where it was"
        ]
    finally:
        store.close()
        raw.close()


def _never(claims: Any) -> bool:
    return False


def _no_time(claims: Any) -> None:
    return None


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--batch-ms", type=float, default=20)
    parser.add_argument("--revocations", type=int, default=200)
    parser.add_argument("--peers", type=int, default=2)
    parser.add_argument("--flood", type=int, default=100_000)
    args = parser.parse_args(argv)
    if not REDIS_SERVER.is_file():
        print(f"needs {REDIS_SERVER}: apt-get install -y redis-server", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as directory, redis_server(Path(directory)) as server:
        store = RedisRevocations(server.url)
        peers = [Peer(server.url) for _ in range(args.peers)]
        try:
            assert store.start()
            for number in range(1000):  # realistic tables: the lookups are not of empty dicts
                store.revoke_session(f"background-{number}")
                store.revoke_user(f"background-{number}")
            print(f"per request ({args.rounds} rounds, wall time, medians):", flush=True)
            for flavour, what, value in per_request(server.url, store, args.rounds, args.batch_ms):
                unit = "x" if what.startswith("ratio") else ""
                print(f"  {flavour.upper()} {what}: {value:.2f}{unit}")
            latencies, calls = propagation(store, peers, args.revocations)
            p99 = percentile(latencies, 0.99)
            print(
                f"propagation to {len(peers)} other processes, {args.revocations} revocations "
                f"({len(latencies)} samples): p50 {percentile(latencies, 0.5):.2f} ms, "
                f"p99 {p99:.2f} ms, max {max(latencies):.2f} ms "
                f"(target p99 < {PROPAGATION_TARGET_P99_MS:g} ms: "
                f"{'met' if p99 < PROPAGATION_TARGET_P99_MS else 'NOT met'}); "
                f"revoke_session call p50 {percentile(calls, 0.5):.2f} ms, "
                f"p99 {percentile(calls, 0.99):.2f} ms",
                flush=True,
            )
            for line in flood(server, store, peers[0], args.flood):
                print(line, flush=True)
            for line in redis_expiry(server, args.flood):
                print(line, flush=True)
        finally:
            for peer in peers:
                peer.close()
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
