"""Keys from a JWKS URL (``jwtcookie.jwks.RemoteKeyring``) against a real local HTTP server.

The issuer here is a real HTTP server on 127.0.0.1 in a thread, serving a JWKS that the tests
rotate, stop, restart, slow down or spoil. Requests go through the real middleware in both
flavours (``tests.harness.Site``). The keyring's rate limit reads an injected clock; the
network waits are bounded polls, and no test asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from jwtcookie import JWTCookieMiddleware, Key, Keyring
from jwtcookie.jwks import RemoteKeyring
from jwtcookie.keys import FetchingKeySource, KeySource
from tests.harness import ALICE, MALLORY, Clock, Reply, Site, assert_anonymous, make_token
from tests.servers import run_script, wait_until

ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 15.0  # every poll in this file ends here at the latest
GATE_SECONDS = 10.0  # the longest a held answer waits for its test to release it
MIN_INTERVAL = 10.0  # the keyrings' rate limit, on the injected clock


# -- the issuer: a real JWKS endpoint -----------------------------------------------------------


class SigningKey:
    """One issuer key: signs tokens naming its kid; publishes its public half."""

    def __init__(self, kid: str, algorithm: str = "EdDSA") -> None:
        private: Any = (
            ed25519.Ed25519PrivateKey.generate()
            if algorithm == "EdDSA"
            else ec.generate_private_key(ec.SECP256R1())
        )
        self.kid = kid
        self.algorithm = algorithm
        self.pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.key = Key.from_pem(algorithm=algorithm, private_key=self.pem, kid=kid)

    def token(self, claims: Any = ALICE, **extra: Any) -> str:
        return make_token(
            claims, self.pem, algorithm=self.algorithm, headers={"kid": self.kid}, **extra
        )

    @property
    def jwk(self) -> dict[str, Any]:
        return self.key.public_jwk()


class Issuer:
    """A JWKS at ``/.well-known/jwks.json`` on 127.0.0.1, in a thread of this process.

    ``documents``: what the n-th fetch gets (the last one repeats). ``gate``: when set, each
    answer waits for it (bounded). ``answer``: a status, body and headers to send instead.
    ``stop()`` closes the port (connections are refused); ``start()`` opens the same one again.
    """

    def __init__(self) -> None:
        self.documents: list[Any] = [{"keys": []}]
        self.fetches = 0
        self.arrived = threading.Event()  # a fetch arrived (the test clears it)
        self.gate: threading.Event | None = None
        self.answer: tuple[int, bytes, list[tuple[str, str]]] | None = None
        self.port = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    def publish(self, *keys: SigningKey) -> None:
        self.documents = [{"keys": [key.jwk for key in keys]}]

    def start(self) -> None:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with issuer._lock:
                    issuer.fetches += 1
                    document = issuer.documents[min(issuer.fetches, len(issuer.documents)) - 1]
                issuer.arrived.set()
                gate = issuer.gate
                if gate is not None:
                    gate.wait(GATE_SECONDS)
                status, body, headers = issuer.answer or (
                    200,
                    json.dumps(document).encode(),
                    [("Content-Type", "application/json")],
                )
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
        self._server = server

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    running = Issuer()
    try:
        yield running
    finally:
        if running.gate is not None:
            running.gate.set()
        running.stop()


@pytest.fixture
def rings() -> Iterator[Callable[..., RemoteKeyring]]:
    """Make keyrings that are always closed (their threads stopped)."""
    made: list[RemoteKeyring] = []

    def make(url: str, **options: Any) -> RemoteKeyring:
        options.setdefault("min_interval", MIN_INTERVAL)
        ring = RemoteKeyring(url, **options)
        made.append(ring)
        return ring

    yield make
    for ring in made:
        ring.close()


def send(site: Site, token: str) -> Reply:
    return site.request("/", cookie=f"access_token={token}")


def assert_unavailable_and_kept(reply: Reply) -> None:
    """Anonymous for now, and the cookie left alone: it may be valid once the key is known."""
    assert_anonymous(reply)
    assert reply.seen["reason"] == "unavailable"
    assert reply.set_cookies() == [], "a cookie that could not be checked is not deleted"


# -- rotation through the middleware ----------------------------------------------------------


def test_a_key_published_then_used_is_fetched_and_its_tokens_accepted(
    mode: str, issuer: Issuer, rings: Any, clock: Clock
) -> None:
    old, new = SigningKey("2024-01"), SigningKey("2024-02")
    issuer.publish(old)
    ring = rings(issuer.url, clock=clock)
    site = Site(mode, keys=ring)
    assert send(site, old.token()).authenticated_as == "1", "the first token fetches the keys"
    assert issuer.fetches == 1

    issuer.publish(old, new)  # the issuer publishes its next key first...
    clock.advance(MIN_INTERVAL)
    reply = send(site, new.token(MALLORY))  # ...then signs with it
    assert reply.authenticated_as == "666"
    assert reply.set_cookies() == [], "a verify-only service never renews: the issuer does"
    assert issuer.fetches == 2
    assert send(site, old.token()).authenticated_as == "1", "the old key still verifies"
    assert ring.find("2024-02") is not None
    assert issuer.fetches == 2, "known kids never fetch"


def test_a_cookie_whose_kid_is_not_known_yet_is_kept_and_accepted_once_it_is(
    mode: str, issuer: Issuer, rings: Any, clock: Clock
) -> None:
    old, early = SigningKey("old"), SigningKey("early")
    issuer.publish(old)
    ring = rings(issuer.url, clock=clock)
    assert ring.start()
    site = Site(mode, keys=ring)
    cookie = early.token()  # signed before the issuer published the key (or a forged one)

    assert_unavailable_and_kept(send(site, cookie))  # fetched too recently: not fetched
    assert issuer.fetches == 1
    clock.advance(MIN_INTERVAL)
    assert_unavailable_and_kept(send(site, cookie))  # fetched: the issuer does not name it
    assert issuer.fetches == 2

    issuer.publish(old, early)
    clock.advance(MIN_INTERVAL)
    assert send(site, cookie).authenticated_as == "1", "the same cookie, now verified"
    assert issuer.fetches == 3


def test_a_planted_duplicate_never_deletes_a_cookie_whose_kid_is_not_known_yet(
    mode: str, issuer: Issuer, rings: Any, clock: Clock
) -> None:
    """Beside a sibling's planted junk, the real cookie of a key the issuer has just started
    using is kept, then accepted once the key is fetched. It used to be deleted."""
    old, early = SigningKey("old"), SigningKey("early")
    issuer.publish(old)
    ring = rings(issuer.url, clock=clock)
    assert ring.start()
    site = Site(mode, keys=ring)
    both = f"access_token=junk; access_token={early.token()}"

    assert_unavailable_and_kept(site.request("/", cookie=both))
    issuer.publish(old, early)
    clock.advance(MIN_INTERVAL)
    assert site.request("/", cookie=both).authenticated_as == "1"


def test_a_flood_of_forged_kids_costs_at_most_one_fetch_per_window(
    mode: str, issuer: Issuer, rings: Any, clock: Clock
) -> None:
    real = SigningKey("real")
    issuer.publish(real)
    ring = rings(issuer.url, clock=clock)
    assert ring.start()
    site = Site(mode, keys=ring)
    forger = SigningKey("forger", "ES256")
    forged = [
        make_token(MALLORY, forger.pem, algorithm="ES256", headers={"kid": f"forged-{n}"})
        for n in range(100)
    ]
    clock.advance(MIN_INTERVAL)  # the window after the start-up fetch is over

    replies = flood(site, forged)
    assert len(replies) == 100
    for reply in replies:
        assert_unavailable_and_kept(reply)
    assert issuer.fetches == 2, "one fetch for the whole flood"

    clock.advance(MIN_INTERVAL - 1)
    assert_unavailable_and_kept(send(site, forged[0]))
    assert issuer.fetches == 2, "still within the window"
    clock.advance(1)
    assert_unavailable_and_kept(send(site, forged[1]))
    assert issuer.fetches == 3, "the next window allows the next fetch"
    assert send(site, real.token()).authenticated_as == "1", "real tokens pass meanwhile"


def flood(site: Site, tokens: list[str]) -> list[Reply]:
    """The tokens at once: 20 threads under WSGI, one event loop under ASGI."""
    if site.mode == "wsgi":
        with ThreadPoolExecutor(max_workers=20) as pool:
            return list(pool.map(lambda token: send(site, token), tokens))

    async def all_at_once() -> list[Reply]:
        sent = [site.arequest("/", cookie=f"access_token={token}") for token in tokens]
        return list(await asyncio.gather(*sent))

    return asyncio.run(all_at_once())


def test_concurrent_requests_for_a_new_kid_share_one_fetch(
    mode: str, issuer: Issuer, rings: Any, clock: Clock
) -> None:
    new = SigningKey("new")
    issuer.publish(new)
    ring = rings(issuer.url, clock=clock)
    site = Site(mode, keys=ring)
    tokens = [new.token({"_id": str(n)}) for n in range(30)]
    replies = flood(site, tokens)
    assert sorted(reply.authenticated_as or "" for reply in replies) == sorted(
        str(n) for n in range(30)
    )
    assert issuer.fetches == 1


def test_while_the_issuer_is_down_the_last_good_keys_verify_and_fetches_resume_after(
    mode: str, issuer: Issuer, rings: Any, clock: Clock
) -> None:
    old, new = SigningKey("old"), SigningKey("new")
    issuer.publish(old)
    ring = rings(issuer.url, clock=clock)
    assert ring.start()
    site = Site(mode, keys=ring)

    issuer.stop()  # connections refused
    clock.advance(MIN_INTERVAL)
    assert_unavailable_and_kept(send(site, new.token()))  # it tried, and could not
    assert ring.fetches == 2
    assert issuer.fetches == 1
    fresh = old.token({"_id": "not-cached-yet"})
    assert send(site, fresh).authenticated_as == "not-cached-yet", "the last keys verify"

    issuer.publish(old, new)
    issuer.start()  # the same port
    clock.advance(MIN_INTERVAL)
    assert send(site, new.token()).authenticated_as == "1"
    assert issuer.fetches == 2


def test_the_thread_refreshes_on_its_schedule_keeps_keys_through_an_outage_and_resumes(
    issuer: Issuer, rings: Any
) -> None:
    """Real time, short intervals: nothing asks, the thread fetches by itself."""
    old, new = SigningKey("old"), SigningKey("new")
    issuer.publish(old)
    ring = rings(issuer.url, refresh_every=0.2, min_interval=0.1)
    assert ring.start()
    wait_until(lambda: issuer.fetches >= 3, "scheduled fetches")

    issuer.stop()
    tried = ring.fetches
    wait_until(lambda: ring.fetches >= tried + 2, "fetches that fail")
    assert ring.find("old") is not None, "the last good keys are kept"

    issuer.publish(new)  # the old key withdrawn meanwhile
    issuer.start()
    wait_until(lambda: ring.find("new") is not None, "the fetches to resume")
    assert ring.find("old") is None
    assert ring.keys() == [ring.find("new")]


def test_a_withdrawn_key_stops_verifying_tokens_already_verified_with_it(
    mode: str, issuer: Issuer, rings: Any, clock: Clock
) -> None:
    leaked, replacement = SigningKey("leaked"), SigningKey("replacement")
    issuer.publish(leaked, replacement)
    ring = rings(issuer.url, clock=clock)
    site = Site(mode, keys=ring)
    stolen = leaked.token(MALLORY)
    assert send(site, stolen).authenticated_as == "666"
    assert site.middleware.cache_info().verified == 1, "verified once, then from the cache"

    issuer.publish(replacement)  # the issuer withdraws the leaked key
    clock.advance(MIN_INTERVAL)
    assert ring.refresh_for("replacement")  # known: no fetch
    assert ring.refresh_for("leaked")
    assert issuer.fetches == 1
    assert not ring.refresh_for("unheard-of")  # fetches (as a scheduled refresh would)
    assert issuer.fetches == 2
    assert ring.find("leaked") is None
    assert_unavailable_and_kept(send(site, stolen))  # the cached verification is forgotten
    assert send(site, replacement.token()).authenticated_as == "1"


def test_under_asgi_a_slow_fetch_leaves_the_event_loop_free(
    issuer: Issuer, rings: Any, clock: Clock
) -> None:
    """A coroutine keeps running while the fetch waits, and is what lets the fetch finish."""
    old, new = SigningKey("old"), SigningKey("new")
    issuer.publish(old)
    ring = rings(issuer.url, clock=clock)
    assert ring.start()
    site = Site("asgi", keys=ring)
    issuer.publish(old, new)
    issuer.gate = threading.Event()  # the next answer waits until the test opens it
    issuer.arrived.clear()
    clock.advance(MIN_INTERVAL)
    events: list[str] = []

    async def request() -> Reply:
        reply = await site.arequest("/", cookie=f"access_token={new.token()}")
        events.append("request answered")
        return reply

    async def other_work() -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not issuer.arrived.is_set():  # the fetch has reached the issuer
            assert time.monotonic() < deadline, "the fetch never started"
            await asyncio.sleep(0.001)
        for _ in range(3):
            events.append("other coroutine ran")
            await asyncio.sleep(0)
        assert issuer.gate is not None
        events.append("fetch released")
        issuer.gate.set()  # a loop blocked by the fetch could never get here

    async def both() -> Reply:
        reply, _ = await asyncio.gather(request(), other_work())
        return reply

    reply = asyncio.run(both())
    assert reply.authenticated_as == "1"
    assert events == [*["other coroutine ran"] * 3, "fetch released", "request answered"]
    assert issuer.fetches == 2


# -- what a fetch accepts ---------------------------------------------------------------------


def test_entries_that_are_no_public_signing_key_with_a_kid_are_skipped_one_by_one(
    issuer: Issuer, rings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    good, leaked = SigningKey("good"), SigningKey("private")
    private_jwk = json.loads(jwt.get_algorithm_by_name("EdDSA").to_jwk(leaked.key.sign_with))
    no_alg = dict(SigningKey("no-alg").jwk)
    del no_alg["alg"]
    issuer.documents = [
        {
            "keys": [
                good.jwk,
                {**private_jwk, "kid": "private", "alg": "EdDSA"},  # `d`: the private key
                {"kty": "oct", "k": "c2VjcmV0LXNlY3JldA", "alg": "HS256", "kid": "hmac"},
                {**SigningKey("x").jwk, "kid": None},
                no_alg,
                {**SigningKey("enc").jwk, "use": "enc"},
                {**SigningKey("bad").jwk, "x": "!!not base64!!"},
                "not an object",
            ]
        }
    ]
    ring = rings(issuer.url)
    with caplog.at_level(logging.WARNING, logger="jwtcookie.jwks"):
        assert ring.start()
    held = ring.keys()
    assert [key.kid for key in held] == ["good"]
    assert ring.jwks() == {"keys": [good.jwk]}
    logged = caplog.text
    for kid in ("private", "hmac", "no-alg", "bad"):
        assert f"skipped JWKS key {kid!r}" in logged


@pytest.mark.parametrize(
    "answer",
    [
        (200, b"{not json", []),
        (200, b'{"keys": {}}', []),
        (200, b'{"keys": [{"kty": "oct", "k": "AAAA", "alg": "HS256", "kid": "k"}]}', []),
        (500, b"{}", []),
        (404, b"{}", []),
        (302, b"", [("Location", "/elsewhere.json")]),
        (200, b" " * (300 * 1024) + b'{"keys": []}', []),
    ],
    ids=["not-json", "keys-not-a-list", "only-a-secret", "500", "404", "redirect", "oversized"],
)
def test_a_bad_answer_keeps_the_last_good_keys(
    issuer: Issuer, rings: Any, clock: Clock, answer: Any
) -> None:
    key = SigningKey("kept")
    issuer.publish(key)
    ring = rings(issuer.url, clock=clock)
    assert ring.start()
    issuer.answer = answer
    clock.advance(MIN_INTERVAL)
    assert not ring.refresh_for("other")
    assert issuer.fetches == 2
    assert ring.find("kept") is not None
    assert ring.staleness >= MIN_INTERVAL, "the last good fetch is the first one"


def test_an_empty_jwks_is_the_issuers_word_and_no_token_verifies(
    mode: str, issuer: Issuer, rings: Any, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """``{"keys": []}`` (an emergency stop) drops every key, cached verifications included;
    it used to count as a failed fetch, and the last keys went on verifying."""
    key = SigningKey("k")
    issuer.publish(key)
    ring = rings(issuer.url, clock=clock)
    site = Site(mode, keys=ring)
    cookie = key.token()
    assert send(site, cookie).authenticated_as == "1"

    issuer.documents = [{"keys": [{**SigningKey("enc").jwk, "use": "enc"}]}]
    clock.advance(MIN_INTERVAL)
    with caplog.at_level(logging.WARNING, logger="jwtcookie.jwks"):
        assert not ring.refresh_for("other")
    assert issuer.fetches == 2
    assert ring.keys() == []
    assert "publishes no signing key: no token verifies" in caplog.text
    assert_unavailable_and_kept(send(site, cookie))

    issuer.stop()  # could not fetch: what the issuer last said (no keys) stands
    clock.advance(MIN_INTERVAL)
    assert not ring.refresh_for("k")
    assert_anonymous(send(site, cookie))
    issuer.start()
    issuer.publish(key)
    clock.advance(MIN_INTERVAL)
    assert send(site, cookie).authenticated_as == "1", "published again: verifies again"


def test_a_loopback_fetch_never_goes_through_the_proxy(
    mode: str, issuer: Issuer, rings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python proxies loopback URLs too: with http_proxy set, whoever answered for the proxy
    published the keys (here a local "proxy" publishing an impostor's), and its tokens logged in."""
    real, impostor = SigningKey("k"), SigningKey("k")
    issuer.publish(real)
    proxy = Issuer()
    try:
        proxy.publish(impostor)
        proxy_url = f"http://127.0.0.1:{proxy.port}"
        for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
            monkeypatch.setenv(name, proxy_url)
        for name in ("no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        ring = rings(issuer.url)
        assert ring.start()
        site = Site(mode, keys=ring)
        assert_anonymous(send(site, impostor.token(MALLORY)))
        assert send(site, real.token()).authenticated_as == "1"
        assert proxy.fetches == 0
        assert issuer.fetches == 1
    finally:
        proxy.stop()


def test_an_issuer_down_from_the_start_leaves_the_middleware_working(
    mode: str, issuer: Issuer, rings: Any
) -> None:
    key = SigningKey("k")
    issuer.stop()
    ring = rings(issuer.url)
    assert ring.start() is False
    site = Site(mode, keys=ring)  # builds and logs its settings with no key yet
    assert "no key yet" in site.middleware.settings.describe()
    assert_unavailable_and_kept(send(site, key.token()))
    assert site.request("/").seen["reason"] == "missing"


# -- the thread: started, forked, closed ------------------------------------------------------


def test_close_stops_the_thread_and_keeps_the_keys(issuer: Issuer) -> None:
    key = SigningKey("k")
    issuer.publish(key)
    with RemoteKeyring(issuer.url) as ring:
        assert ring.start()
        thread = ring._thread
        assert thread is not None
        assert thread.daemon
        assert thread.is_alive()
    assert not thread.is_alive()
    assert ring.find("k") is not None
    assert ring.refresh_for("unknown") is False
    assert issuer.fetches == 1, "a closed keyring fetches nothing"


@pytest.mark.parametrize("fork", ["os.fork", "libc fork"])
def test_a_forked_worker_fetches_with_a_thread_of_its_own(issuer: Issuer, fork: str) -> None:
    """gunicorn's model: the keyring starts in the parent; the child follows by itself.

    ``libc fork`` forks from C without Python's at-fork handlers, as uWSGI does without
    lazy-apps: lookups alone must still start the child's thread (it refreshes the keys).
    """
    first, second = SigningKey("first"), SigningKey("second")
    issuer.documents = [{"keys": [first.jwk]}, {"keys": [first.jwk, second.jwk]}]
    assert run_script(FORK_SCRIPT, issuer.url, fork, cwd=ROOT) == {
        "child_had_the_parents_keys": True,
        "child_thread_is_its_own": True,
        "child_fetched_the_new_key": True,
        "parent_did_not": True,
    }
    assert issuer.fetches == 2


# CPython makes its GIL usable in a forked child only on the at-fork path that a fork from C
# skips (PyOS_AfterFork_Child): a Python thread holding or awaiting the GIL at such a fork
# leaves the child waiting for it forever, before any jwtcookie code runs (uWSGI takes that
# path with py-call-uwsgi-fork-hooks). So a "libc fork" here forks the started keyring with its
# thread stopped: the child inherits the parent's pid, thread and locks, as under uWSGI.
FORK_SCRIPT = """
import json, os, sys, warnings
from jwtcookie.jwks import RemoteKeyring

ring = RemoteKeyring(sys.argv[1], min_interval=60)
assert ring.start() and ring.find("second") is None
parent_thread = ring._thread
if sys.argv[2] == "libc fork":  # started, but no thread at a fork from C (above FORK_SCRIPT)
    ring._stop.set()
    ring._wake.set()
    parent_thread.join()
report_read, report_write = os.pipe()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # fork with a thread running: on purpose
    if sys.argv[2] == "os.fork":
        child = os.fork()
    else:
        import ctypes
        child = ctypes.PyDLL(None, use_errno=True).fork()  # with the GIL, as C servers fork
if child == 0:
    seen = {"child_had_the_parents_keys": ring.find("first") is not None}
    for _ in range(300):  # more lookups than PID_CHECK_EVERY: a real pid check among them
        ring.find("first")
    seen["child_thread_is_its_own"] = ring._thread is not parent_thread
    seen["child_fetched_the_new_key"] = ring.refresh_for("second")
    ring.close()
    os.write(report_write, json.dumps(seen).encode())
    os._exit(0)
os.close(report_write)
os.waitpid(child, 0)
with os.fdopen(report_read) as report:
    seen = json.loads(report.read() or "{}")
seen["parent_did_not"] = ring.find("second") is None
ring.close()
print(json.dumps(seen, sort_keys=True))
"""


# -- construction -----------------------------------------------------------------------------


def test_a_remote_keyring_is_a_key_source_the_middleware_and_rotate_keys_take(
    issuer: Issuer, rings: Any
) -> None:
    ring = rings(issuer.url)
    assert isinstance(ring, KeySource)
    assert isinstance(ring, FetchingKeySource)
    assert not isinstance(Keyring.from_jwks({"keys": [SigningKey("k").jwk]}), FetchingKeySource)
    assert ring.signing_key is None
    assert ring.only_key is None
    middleware = JWTCookieMiddleware(lambda environ, start: [], keys=ring, secure=False)
    middleware.rotate_keys(rings(issuer.url))
    assert middleware.keyring is not ring


def test_what_is_no_key_source_is_refused_when_the_middleware_is_built() -> None:
    class Incomplete:
        signing_key = None
        only_key = None

        def find(self, kid: str) -> None:
            return None

    for keys in (Incomplete(), {"keys": []}, "secret"):
        with pytest.raises(TypeError, match=r"keys= takes a jwtcookie\.Keyring"):
            JWTCookieMiddleware(lambda environ, start: [], keys=keys, secure=False)
        middleware = JWTCookieMiddleware(lambda environ, start: [], secret="s" * 64)
        with pytest.raises(TypeError, match=r"rotate_keys\(\) takes a jwtcookie.Keyring"):
            middleware.rotate_keys(keys)


@pytest.mark.parametrize(
    ("url", "options", "error"),
    [
        ("http://login.example/.well-known/jwks.json", {}, "plain http"),
        ("ftp://login.example/jwks.json", {}, "not a JWKS URL"),
        ("/.well-known/jwks.json", {}, "not a JWKS URL"),
        ("https://login.example/jwks.json", {"timeout": 0}, "timeout"),
        ("https://login.example/jwks.json", {"min_interval": -1}, "min_interval"),
        ("https://login.example/jwks.json", {"refresh_every": 1}, "shorter than min_interval"),
    ],
)
def test_misconfiguration_is_refused_with_what_to_do(
    url: str, options: dict[str, Any], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        RemoteKeyring(url, **options)


def test_plain_http_is_taken_for_loopback_or_when_allowed() -> None:
    for url, options in [
        ("http://127.0.0.1:1/jwks.json", {}),
        ("http://localhost:1/jwks.json", {}),
        ("http://[::1]:1/jwks.json", {}),
        ("http://issuer.mesh.internal/jwks.json", {"allow_http": True}),
    ]:
        with RemoteKeyring(url, **options) as ring:  # never started: nothing fetched
            assert ring.url == url
    with pytest.raises(TypeError, match="str"):
        RemoteKeyring(b"https://login.example/jwks.json")  # type: ignore[arg-type]
