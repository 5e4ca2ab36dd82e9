"""Per-request cost of each app, driven in-process, interleaved round by round.

ASGI apps are awaited with a prebuilt scope and no-op ``receive``/``send`` on one event
loop; WSGI apps are called with a prebuilt environ and a no-op ``start_response``, and
their body is consumed and closed. So the time measured is the app and its middleware,
not a client or a server. Time is the benchmark process's CPU time
(``time.process_time``), so other load on a shared machine is not counted as ours. Each
round runs every variant once (in a shuffled order) for a
batch of calls sized to take about ``batch_ms``; ratios are taken within a round and the
medians over rounds are reported.
"""

from __future__ import annotations

import asyncio
import gc
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt
from werkzeug.test import EnvironBuilder

from benchmarks import apps

POOL = 8192  # distinct tokens cycled: twice the default cache, so every call misses it

Batch = Callable[[int], float]  # n calls -> seconds


@dataclass
class Variant:
    key: str
    label: str
    batch: Batch
    per_call: int = 0  # calls per batch, set by calibration
    times: list[float] = field(default_factory=list)  # µs per call, one per round


# -- drivers -------------------------------------------------------------------------------


def _scope(header: str | None) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    if header is not None:
        headers.append((b"cookie", header.encode("latin-1")))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


def _environ(header: str | None) -> dict[str, Any]:
    headers = {"User-Agent": "bench", "Accept": "*/*"}
    if header is not None:
        headers["Cookie"] = header
    return EnvironBuilder(path="/", base_url="http://127.0.0.1:8000", headers=headers).get_environ()


_REQUEST = {"type": "http.request", "body": b"", "more_body": False}


async def _receive() -> dict[str, Any]:
    return _REQUEST


async def _send(message: Any) -> None:
    return None


def _start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
    return _write


def _write(data: bytes) -> None:
    return None


class _Cursor:
    """Where a variant's token pool continues from, so no token is reused too soon."""

    def __init__(self) -> None:
        self.at = 0


def asgi_batch(loop: asyncio.AbstractEventLoop, app: Any, headers: Sequence[str | None]) -> Batch:
    scopes = [_scope(header) for header in headers]
    cursor = _Cursor()

    async def run(n: int) -> float:
        count, at = len(scopes), cursor.at
        started = time.process_time()
        for i in range(at, at + n):
            await app(dict(scopes[i % count]), _receive, _send)
        elapsed = time.process_time() - started
        cursor.at = at + n
        return elapsed

    return lambda n: loop.run_until_complete(run(n))


def wsgi_batch(app: Any, headers: Sequence[str | None]) -> Batch:
    environs = [_environ(header) for header in headers]
    cursor = _Cursor()

    def run(n: int) -> float:
        count, at = len(environs), cursor.at
        started = time.process_time()
        for i in range(at, at + n):
            body = app(environs[i % count].copy(), _start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
        elapsed = time.process_time() - started
        cursor.at = at + n
        return elapsed

    return run


def call_batch(function: Callable[[int], Any]) -> Batch:
    def run(n: int) -> float:
        started = time.process_time()
        for i in range(n):
            function(i)
        return time.process_time() - started

    return run


# -- the variants --------------------------------------------------------------------------

SCENARIOS = ("valid", "first", "anon", "renew", "renew_fresh", "invalid")
SCENARIO_LABELS = {
    "valid": "valid token, repeat (cache hit)",
    "first": "valid token, first sight (cache miss)",
    "anon": "anonymous (no token)",
    "renew": "renewal, same old token repeated",
    "renew_fresh": "renewal, fresh old token each call",
    "invalid": "invalid token (bad signature)",
}


class Tokens:
    def __init__(self) -> None:
        self.valid = apps.token()
        self.renewable = apps.renewable_token()
        self.invalid = apps.tampered(apps.token())
        self.fresh = [apps.token(user=i) for i in range(POOL)]
        self.fresh_renewable = [apps.renewable_token(user=i) for i in range(POOL)]
        self.claims = jwt.decode(self.valid, apps.SECRET, algorithms=["HS256"])

    def headers(self, scenario: str) -> list[str | None]:
        if scenario == "valid":
            return [apps.cookie_header(self.valid)]
        if scenario == "first":
            return [apps.cookie_header(value) for value in self.fresh]
        if scenario == "anon":
            return [apps.cookie_header(None)]
        if scenario == "renew":
            return [apps.cookie_header(self.renewable)]
        if scenario == "renew_fresh":
            return [apps.cookie_header(value) for value in self.fresh_renewable]
        if scenario == "invalid":
            return [apps.cookie_header(self.invalid)]
        raise ValueError(scenario)


def build_variants(loop: asyncio.AbstractEventLoop, tokens: Tokens) -> list[Variant]:
    variants: list[Variant] = []
    valid_header = tokens.headers("valid")

    def add(key: str, label: str, batch: Batch) -> None:
        variants.append(Variant(key, label, batch))

    secret, valid, claims = apps.SECRET, tokens.valid, tokens.claims
    add(
        "decode",
        "jwt.decode",
        call_batch(lambda i: jwt.decode(valid, secret, algorithms=["HS256"])),
    )
    add("encode", "jwt.encode", call_batch(lambda i: jwt.encode(claims, secret, algorithm="HS256")))

    def decode_encode(i: int) -> None:
        found = jwt.decode(valid, secret, algorithms=["HS256"])
        jwt.encode(found, secret, algorithm="HS256")

    add("decode_encode", "jwt.decode + jwt.encode", call_batch(decode_encode))

    bases: dict[str, tuple[str, Callable[[], Any], Callable[[Any, list[str | None]], Batch]]] = {
        "asgi": ("bare ASGI app", lambda: apps.bare_asgi, lambda a, h: asgi_batch(loop, a, h)),
        "starlette": ("Starlette", apps.starlette_app, lambda a, h: asgi_batch(loop, a, h)),
        "wsgi": ("bare WSGI app", lambda: apps.bare_wsgi, wsgi_batch),
        "flask": ("Flask", apps.flask_app, wsgi_batch),
    }
    for base, (label, make, drive) in bases.items():
        add(base, f"{label}, bare (with a valid cookie)", drive(make(), valid_header))
        for scenario in SCENARIOS:
            wrapped = apps.jwtcookie(make())
            add(
                f"{base}+jwtcookie:{scenario}",
                f"{label} + jwtcookie, {SCENARIO_LABELS[scenario]}",
                drive(wrapped, tokens.headers(scenario)),
            )
        lean = apps.LeanASGI(make()) if base in ("asgi", "starlette") else apps.LeanWSGI(make())
        add(f"{base}+lean", f"{label} + lean cookie/jwt.decode wrapper", drive(lean, valid_header))

    add(
        "starlette+auth",
        "Starlette + AuthenticationMiddleware (JWT backend)",
        asgi_batch(loop, apps.starlette_auth_app(), valid_header),
    )
    fje, fje_token = apps.flask_jwt_extended_app()
    add(
        "flask+fje",
        "Flask + Flask-JWT-Extended, @jwt_required()",
        wsgi_batch(fje, [apps.cookie_header(fje_token)]),
    )
    return variants


# -- running -------------------------------------------------------------------------------


def calibrate(variants: list[Variant], batch_ms: float) -> None:
    for variant in variants:
        variant.batch(20)  # warm up: Starlette builds its middleware stack on first call
        elapsed = variant.batch(50)
        variant.per_call = max(20, int(50 * batch_ms / 1000 / max(elapsed, 1e-9)))


def run_rounds(variants: list[Variant], rounds: int, *, progress: bool = True) -> None:
    shuffler = random.Random(6)
    for number in range(rounds):
        order = list(variants)
        shuffler.shuffle(order)
        gc.collect()
        for variant in order:
            elapsed = variant.batch(variant.per_call)
            variant.times.append(elapsed / variant.per_call * 1e6)
        if progress:
            print(f"  round {number + 1}/{rounds} done", flush=True)


@dataclass
class Ratio:
    label: str
    values: list[float]
    target: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.median <= self.target


def _added(times: dict[str, list[float]], key: str, base: str) -> list[float]:
    return [wrapped - bare for wrapped, bare in zip(times[key], times[base], strict=True)]


def _over(top: list[float], bottom: list[float]) -> list[float]:
    return [a / b for a, b in zip(top, bottom, strict=True)]


def ratios(variants: list[Variant]) -> list[Ratio]:
    """Added times and their ratios, each taken within a round, then the median."""
    times = {variant.key: variant.times for variant in variants}
    decode = times["decode"]
    decode_encode = times["decode_encode"]
    out: list[Ratio] = []
    names = {"asgi": "ASGI", "starlette": "Starlette", "wsgi": "WSGI", "flask": "Flask"}
    targets = {"valid": 0.15, "first": 1.1, "renew": 1.0, "renew_fresh": 1.0}
    for base, name in names.items():
        for scenario in SCENARIOS:
            added = _added(times, f"{base}+jwtcookie:{scenario}", base)
            renewing = scenario.startswith("renew")
            bottom = decode_encode if renewing else decode
            out.append(
                Ratio(
                    f"{name}: jwtcookie {SCENARIO_LABELS[scenario]}, added / "
                    + ("(decode + encode)" if renewing else "jwt.decode"),
                    _over(added, bottom),
                    targets.get(scenario),
                )
            )
        out.append(
            Ratio(
                f"{name}: lean wrapper, added / jwt.decode",
                _over(_added(times, f"{base}+lean", base), decode),
            )
        )
    auth_added = _added(times, "starlette+auth", "starlette")
    out.append(
        Ratio("Starlette: AuthenticationMiddleware, added / jwt.decode", _over(auth_added, decode))
    )
    out.append(
        Ratio(
            "Starlette: jwtcookie valid repeat added / AuthenticationMiddleware added",
            _over(_added(times, "starlette+jwtcookie:valid", "starlette"), auth_added),
        )
    )
    fje_added = _added(times, "flask+fje", "flask")
    out.append(Ratio("Flask: Flask-JWT-Extended, added / jwt.decode", _over(fje_added, decode)))
    for scenario, label in (("valid", "valid repeat"), ("first", "first sight")):
        out.append(
            Ratio(
                f"Flask: jwtcookie {label} added / Flask-JWT-Extended added",
                _over(_added(times, f"flask+jwtcookie:{scenario}", "flask"), fje_added),
                0.1 if scenario == "valid" else None,
            )
        )
    return out


def measure(rounds: int = 9, batch_ms: float = 20) -> tuple[list[Variant], list[Ratio]]:
    loop = asyncio.new_event_loop()
    try:
        print("building tokens and apps ...", flush=True)
        tokens = Tokens()
        variants = build_variants(loop, tokens)
        print(f"calibrating {len(variants)} variants ...", flush=True)
        calibrate(variants, batch_ms)
        run_rounds(variants, rounds)
    finally:
        loop.close()
    return variants, ratios(variants)


def render(variants: list[Variant], found: list[Ratio]) -> str:
    by_key = {variant.key: variant for variant in variants}
    times = {variant.key: variant.times for variant in variants}
    lines = [
        "| variant | µs per request (median) | added over its bare app (µs, median) |",
        "| --- | ---: | ---: |",
    ]
    for variant in variants:
        added = ""
        base = variant.key.split("+")[0]
        if "+" in variant.key and base in by_key:
            added = f"{statistics.median(_added(times, variant.key, base)):.2f}"
        lines.append(f"| {variant.label} | {statistics.median(variant.times):.2f} | {added} |")
    lines += [
        "",
        "| ratio (taken within each round) | median | min - max | target | met |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for ratio in found:
        target = f"≤ {ratio.target:g}" if ratio.target is not None else ""
        met = "" if ratio.met is None else ("yes" if ratio.met else "**no**")
        lines.append(
            f"| {ratio.label} | {ratio.median:.3f} "
            f"| {min(ratio.values):.3f} - {max(ratio.values):.3f} | {target} | {met} |"
        )
    return "\n".join(lines)
