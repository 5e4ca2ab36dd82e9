"""Keys from a JWKS URL: what ``RemoteKeyring`` costs per request, and how it fetches.

``python -m benchmarks.jwks`` serves a JWKS from a thread of this process on a free
127.0.0.1 port and drives the real middleware in-process (WSGI and ASGI), EdDSA tokens:

- **Per request**: a valid token, cached (the usual case) and uncached (``cache_size=0``,
  every request verifies the signature), with a fixed ``Keyring`` and with a
  ``RemoteKeyring`` holding the same key. Wall time, medians of interleaved rounds, as in
  ``benchmarks/revocation.py``.
- **A new kid**: the issuer publishes a new key, then a request carries a token signed with
  it; the time of that request (fetch included), over ``--rotations`` rotations.
- **A flood of forged kids**: requests naming a different unknown kid each, for
  ``--flood-seconds`` seconds with ``min_interval=1``: how many fetches reached the issuer,
  and what each forged request cost.
- **The issuer unreachable**: a request naming an unknown kid when the issuer refuses the
  connection, and when it accepts it but never answers (``timeout=0.5``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from benchmarks import apps
from benchmarks.inprocess import (
    Variant,
    _environ,
    _receive,
    _scope,
    _send,
    _start_response,
    calibrate,
    run_rounds,
)
from benchmarks.revocation import asgi_batch, wsgi_batch
from jwtcookie import JWTCookieMiddleware, Key, Keyring
from jwtcookie.jwks import RemoteKeyring

CLAIMS = {"_id": "65f0c0ffee", "username": "user1"}


class SigningKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = ed25519.Ed25519PrivateKey.generate()
        pem = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.key = Key.from_pem(algorithm="EdDSA", private_key=pem, kid=kid)

    def token(self, kid: str | None = None) -> str:
        now = int(time.time())
        payload = {**CLAIMS, "iat": now, "exp": now + 3600}
        headers = {"kid": kid or self.kid}
        return jwt.encode(payload, self.private, algorithm="EdDSA", headers=headers)


class Issuer:
    """A JWKS endpoint in a thread; ``fetches`` counts the requests it answered."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.fetches += 1
                body = json.dumps(issuer.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, *keys: SigningKey) -> None:
        self.document = {"keys": [key.key.public_jwk() for key in keys]}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wrap(app: Any, keyring: Keyring, **options: Any) -> Any:
    return JWTCookieMiddleware(app, keys=keyring, secure=False, **options)


def call(app: Any, token: str, loop: asyncio.AbstractEventLoop | None) -> None:
    """One request through ``app`` (ASGI when ``loop`` is given)."""
    header = apps.cookie_header(token)
    if loop is None:
        body = app(_environ(header), _start_response)
        for _chunk in body:
            pass
    else:
        loop.run_until_complete(app(_scope(header), _receive, _send))


# -- per request ---------------------------------------------------------------------------


def per_request(issuer: Issuer, rounds: int, batch_ms: float) -> list[str]:
    key = SigningKey("current")
    issuer.publish(key)
    remote = RemoteKeyring(issuer.url, min_interval=60, refresh_every=3600)
    assert remote.start()
    fixed = Keyring([Key.from_pem(algorithm="EdDSA", public_key=public_pem(key), kid="current")])
    header = apps.cookie_header(key.token())
    loop = asyncio.new_event_loop()
    variants: list[Variant] = []
    try:
        for flavour, bare, drive in (
            ("wsgi", apps.bare_wsgi, wsgi_batch),
            ("asgi", apps.bare_asgi, lambda app, h: asgi_batch(loop, app, h)),
        ):
            for cache in ("cached", "uncached"):
                size = {"cached": 4096, "uncached": 0}[cache]
                for name, keyring in (("Keyring", fixed), ("RemoteKeyring", remote)):
                    app = wrap(bare, keyring, cache_size=size)
                    label = f"{flavour} {cache} {name}"
                    variants.append(Variant(label, label, drive(app, header)))
        calibrate(variants, batch_ms)
        run_rounds(variants, rounds, progress=False)
    finally:
        loop.close()
        remote.close()
    return [f"  {v.key}: {statistics.median(v.times):.2f} µs per request" for v in variants]


def public_pem(key: SigningKey) -> bytes:
    return key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# -- fetches -------------------------------------------------------------------------------


def new_kid(issuer: Issuer, rotations: int) -> list[str]:
    lines = []
    for flavour in ("wsgi", "asgi"):
        loop = asyncio.new_event_loop() if flavour == "asgi" else None
        bare = apps.bare_asgi if loop else apps.bare_wsgi
        old = SigningKey("start")
        issuer.publish(old)
        remote = RemoteKeyring(issuer.url, min_interval=0.001, refresh_every=3600)
        assert remote.start()
        app = wrap(bare, remote)
        took = []
        try:
            for number in range(rotations):
                new = SigningKey(f"{flavour}-{number}")
                issuer.publish(old, new)
                token = new.token()
                time.sleep(0.002)  # past min_interval since the last fetch: this one may fetch
                started = time.perf_counter()
                call(app, token, loop)
                took.append((time.perf_counter() - started) * 1000)
                assert remote.find(new.kid) is not None
                old = new
        finally:
            remote.close()
            if loop is not None:
                loop.close()
        lines.append(
            f"  {flavour.upper()}: the first request naming a new kid, fetch included: "
            f"p50 {statistics.median(took):.2f} ms, max {max(took):.2f} ms ({rotations} rotations)"
        )
    return lines


def forged_flood(issuer: Issuer, seconds: float) -> list[str]:
    key, forger = SigningKey("real"), SigningKey("forger")
    issuer.publish(key)
    remote = RemoteKeyring(issuer.url, min_interval=1, refresh_every=3600)
    assert remote.start()
    app = wrap(apps.bare_wsgi, remote)
    tokens = [forger.token(f"forged-{number}") for number in range(20_000)]
    fetched = issuer.fetches
    sent = 0
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < seconds:
            call(app, tokens[sent % len(tokens)], None)
            sent += 1
    finally:
        elapsed = time.perf_counter() - started
        remote.close()
    return [
        f"  {sent:,} requests naming {min(sent, len(tokens)):,} different forged kids in "
        f"{elapsed:.1f} s (min_interval=1): {issuer.fetches - fetched} fetches reached the "
        f"issuer; {elapsed / sent * 1e6:.0f} µs per forged request (WSGI)"
    ]


def unreachable() -> list[str]:
    lines = []
    key = SigningKey("k")
    with socket.socket() as closed:  # a port nothing listens on: connections are refused
        closed.bind(("127.0.0.1", 0))
        refused_url = f"http://127.0.0.1:{closed.getsockname()[1]}/jwks.json"
    hanging = socket.socket()  # accepts connections (the backlog) and never answers
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(8)
    hanging_url = f"http://127.0.0.1:{hanging.getsockname()[1]}/jwks.json"
    try:
        for what, url in (("refuses connections", refused_url), ("never answers", hanging_url)):
            remote = RemoteKeyring(url, min_interval=0.001, refresh_every=3600, timeout=0.5)
            app = wrap(apps.bare_wsgi, remote)
            took = []
            try:
                call(app, key.token(), None)  # the first fetch, at start
                for _ in range(5):
                    time.sleep(0.002)  # past min_interval: each request may fetch again
                    started = time.perf_counter()
                    call(app, key.token(), None)
                    took.append((time.perf_counter() - started) * 1000)
            finally:
                remote.close()
            lines.append(
                f"  the issuer {what} (timeout=0.5): a request naming an unknown kid "
                f"took p50 {statistics.median(took):.1f} ms, max {max(took):.1f} ms "
                "(anonymous, reason unavailable, cookie kept)"
            )
    finally:
        hanging.close()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--batch-ms", type=float, default=20)
    parser.add_argument("--rotations", type=int, default=50)
    parser.add_argument("--flood-seconds", type=float, default=3)
    args = parser.parse_args(argv)
    issuer = Issuer()
    sections: list[tuple[str, Callable[[], list[str]]]] = [
        (
            f"per request ({args.rounds} rounds, wall time, medians):",
            lambda: per_request(issuer, args.rounds, args.batch_ms),
        ),
        ("a new kid:", lambda: new_kid(issuer, args.rotations)),
        ("a flood of forged kids:", lambda: forged_flood(issuer, args.flood_seconds)),
        ("the issuer unreachable:", unreachable),
    ]
    try:
        for title, measure in sections:
            print(title, flush=True)
            for line in measure():
                print(line, flush=True)
    finally:
        issuer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
