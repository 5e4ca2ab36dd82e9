"""``--memory``: a million distinct valid tokens through the middleware; memory stays bounded.

One token in ``RENEW_EVERY`` is old enough to be renewed, so both of the codec's caches
(verified tokens, and recent renewals) fill up and keep evicting; renewing every token
would only make the run slower. The size of one entry is measured with ``tracemalloc``
on a separate middleware; resident memory (``VmRSS``) is sampled while the million tokens
go through a WSGI app.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import json
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import apps

CACHE_SIZE = 4096  # the default
RENEW_EVERY = 8
RENEWAL_AGE = 4 * 24 * 3600  # past half of seven days
# The documented bound: resident memory per unit of cache_size, both caches, allocator
# overhead included (live objects are about 2 KiB, see the measured entry sizes).
RESIDENT_BOUND_PER_ENTRY = 3 * 1024
_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def tokens(count: int, *, age: float, start: int = 0, renew_every: int = 0) -> Iterator[str]:
    """Distinct HS256 tokens, signed by hand (PyJWT would take longer than the test)."""
    key = apps.SECRET.encode()
    now = int(time.time())
    for number in range(start, start + count):
        renewable = renew_every and number % renew_every == 0
        issued = now - (RENEWAL_AGE if renewable else int(age))
        claims = {
            "_id": f"65f0c0ffee{number:014d}",
            "username": f"user{number}",
            "iat": issued,
            "exp": issued + apps.WEEK,
            "jti": f"j{number:015d}",
        }
        signing_input = _HEADER + b"." + _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(key, signing_input, hashlib.sha256).digest()
        yield (signing_input + b"." + _b64(signature)).decode()


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _environ(value: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "wsgi.url_scheme": "http",
        "HTTP_COOKIE": apps.cookie_header(value),
    }


def _through(app: Any, values: Iterator[str]) -> int:
    """Send each token in one request; how many responses renewed the cookie."""
    renewed = [0]

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        renewed[0] += any(name == "Set-Cookie" for name, _ in headers)

    for value in values:
        app(_environ(value), start_response)
    return renewed[0]


def entry_sizes(age: float) -> float:
    """Bytes one token adds while the caches are filling (key string included)."""
    gc.collect()
    app = apps.jwtcookie(apps.bare_wsgi, cache_size=CACHE_SIZE)
    _through(app, tokens(64, age=age, start=10**9))  # warm up
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    _through(app, tokens(CACHE_SIZE - 64, age=age, start=2 * 10**9))
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / (CACHE_SIZE - 64)


def measure(count: int = 1_000_000) -> str:
    gc.collect()
    app = apps.jwtcookie(apps.bare_wsgi, cache_size=CACHE_SIZE)
    _through(app, tokens(16, age=60, start=10**10))  # import and warm up what one request needs
    start_rss = _rss_kib()
    samples = []
    step = max(count // 20, 1)
    started = time.perf_counter()
    done = renewed = 0
    while done < count:
        batch = min(step, count - done)
        renewed += _through(app, tokens(batch, age=60, start=done, renew_every=RENEW_EVERY))
        done += batch
        samples.append((done, _rss_kib()))
        print(f"  {done} tokens, VmRSS {samples[-1][1]} KiB", flush=True)
    elapsed = time.perf_counter() - started
    cache_entries = app.cache_info()[:2]
    del app
    verified_entry = entry_sizes(age=60)  # not renewed: the verified-token cache only
    both = entry_sizes(age=RENEWAL_AGE)  # renewed: both caches
    bound_kib = CACHE_SIZE * RESIDENT_BOUND_PER_ENTRY / 1024
    full_at = RENEW_EVERY * CACHE_SIZE
    full_rss = next((rss for done, rss in samples if done >= full_at), samples[-1][1])
    peak = max(rss for _, rss in samples)
    growth_after_full = peak - full_rss
    lines = [
        f"{count:,} distinct valid tokens (one in {RENEW_EVERY} old enough to be renewed) "
        "through a WSGI app "
        f"wrapped with the default `cache_size={CACHE_SIZE}`, in {elapsed:.0f} s; "
        f"{renewed:,} responses renewed the cookie.",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| one verified-token cache entry (tracemalloc, key string included) | "
        f"{verified_entry:,.0f} B |",
        f"| one entry in both caches (verified + renewal, renewed tokens) | {both:,.0f} B |",
        f"| live objects: cache_size x both entries | {CACHE_SIZE * both / 1024:,.0f} KiB |",
        f"| resident bound (docs/performance.md), typical tokens: cache_size x 3 KiB | "
        f"{bound_kib:,.0f} KiB |",
        f"| entries at the end (verified, renewal) | {cache_entries[0]}, {cache_entries[1]} |",
        f"| VmRSS before the first token | {start_rss:,} KiB |",
        f"| VmRSS once both caches were full ({full_at:,} tokens) | {full_rss:,} KiB |",
        f"| VmRSS peak over {count:,} tokens | {peak:,} KiB |",
        f"| VmRSS growth, before first token to peak | {peak - start_rss:,} KiB |",
        f"| VmRSS growth after the caches were full | {growth_after_full:,} KiB |",
        "",
        "| tokens | VmRSS KiB |",
        "| ---: | ---: |",
        *(f"| {done:,} | {rss:,} |" for done, rss in samples),
    ]
    verdict = "within" if peak - start_rss <= bound_kib else "**over**"
    lines.insert(1, "")
    lines.insert(
        2,
        f"Resident memory grew {peak - start_rss:,} KiB in all, {verdict} the "
        f"{bound_kib:,.0f} KiB resident bound of the caches for typical tokens "
        f"({CACHE_SIZE} x 3 KiB), and "
        f"{growth_after_full:,} KiB once they were full.",
    )
    return "\n".join(lines)
