"""A keyring that follows an issuer's JWKS URL: how a verify-only service gets its keys.

``RemoteKeyring(url)`` is a :class:`~jwtcookie.keys.Keyring` of the public keys the issuer
publishes at ``/.well-known/jwks.json``. Requests only ever read the keys this process holds
(``find`` is a dict lookup, never the network); one daemon thread per process fetches them:

- at first use, then every ``refresh_every`` seconds, so a key the issuer withdraws stops
  verifying here (tokens verified with it are forgotten too);
- at once when a token names a ``kid`` this process does not hold (the issuer rotated): the
  middleware calls ``refresh_for(kid)``, which waits (bounded) for that fetch, or under ASGI
  awaits ``refresh_for_async(kid)``, which waits without blocking the event loop. However many
  unknown kids arrive (a flood of forged ones), fetches start at most once per
  ``min_interval``: callers meanwhile share the fetch in flight, or are answered from the keys
  held, and their request is anonymous with ``Reason.UNAVAILABLE``, its cookie kept.

When the issuer is unreachable or answers something that is not a usable JWKS, the last good
keys stay and the thread retries with backoff. A well-formed document that offers no signing
key at all (``{"keys": []}``, an emergency stop) is the issuer's word, not a failure: every
key is dropped and no token verifies until it publishes one. Each key is parsed as
``Keyring.from_jwks`` parses it: public keys only, pinned to the algorithm of their ``alg``.

The HTTP client is the standard library's (``urllib.request``): the keyring needs nothing
beyond PyJWT's crypto backend, honours the usual proxy variables (never for a loopback URL),
verifies TLS with the system's CA certificates, and follows no redirect (a JWKS URL is
configured, never discovered). See docs/scaling-out.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import math
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from http.client import HTTPException
from typing import Any

import jwt
import jwt.algorithms

from jwtcookie._background import ProcessThread, ThisProcess
from jwtcookie.keys import Key, Keyring

REFRESH_EVERY = 300.0  # seconds between scheduled fetches (PyJWKClient caches as long)
MIN_INTERVAL = 10.0  # fetches start at most this often, whatever asks for them
TIMEOUT = 5.0  # seconds for each network step of a fetch, and for the whole body
MAX_BYTES = 256 * 1024  # a JWKS of a dozen RSA keys is under 10 KiB
MAX_KEYS = 100  # entries read from one document; the rest are ignored
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})

log = logging.getLogger("jwtcookie.jwks")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: the JWKS is where it was configured, over the scheme it said."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class RemoteKeyring:
    """Verification keys fetched from a JWKS URL, kept fresh by a daemon thread per process.

    ``JWTCookieMiddleware(app, keys=RemoteKeyring(url))``: a key source that fetches
    (:class:`~jwtcookie.keys.FetchingKeySource`). It verifies only (no signing key),
    so this service never renews a cookie: the issuer does. Call ``start()`` at start-up to
    fetch before the first request (otherwise the first token waits for the first fetch), and
    ``close()`` to stop the thread. A forked worker starts its own thread on first use.
    """

    __slots__ = (
        "_by_kid",
        "_clock",
        "_entries",
        "_failing",
        "_fetched_at",
        "_inflight",
        "_last_attempt",
        "_lock",
        "_min_interval",
        "_opener",
        "_process",
        "_refresh_every",
        "_stop",
        "_thread",
        "_timeout",
        "_url",
        "_wake",
        "fetches",
        "generation",
        "only_key",
        "signing_key",
    )

    def __init__(
        self,
        url: str,
        *,
        refresh_every: float = REFRESH_EVERY,  # also how long a withdrawn key keeps verifying
        min_interval: float = MIN_INTERVAL,  # rate limit: a forged-kid flood costs one fetch
        timeout: float = TIMEOUT,  # per network step; a request waits at most twice this
        allow_http: bool = False,  # plain http only to a loopback host unless True
        clock: Callable[[], float] = time.monotonic,  # injectable for tests
    ) -> None:
        if not jwt.algorithms.has_crypto:
            raise ImportError(
                "jwtcookie: RemoteKeyring verifies asymmetric keys, which needs the "
                "`cryptography` package: pip install 'jwtcookie[crypto]'."
            )
        self._url = _checked_url(url, allow_http)
        for name, value in (
            ("refresh_every", refresh_every),
            ("min_interval", min_interval),
            ("timeout", timeout),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"jwtcookie: {name} is a positive number of seconds.")
        if refresh_every < min_interval:
            raise ValueError("jwtcookie: refresh_every cannot be shorter than min_interval.")
        self._by_kid: Mapping[str | None, Key] = {}
        self.only_key: Key | None = None
        self.signing_key: Key | None = None
        self.generation = 0  # bumped when a key is withdrawn: the middleware forgets its tokens
        self.fetches = 0
        self._entries: dict[str, dict[str, Any]] = {}
        self._refresh_every = float(refresh_every)
        self._min_interval = float(min_interval)
        self._timeout = float(timeout)
        self._clock = clock
        handlers: list[urllib.request.BaseHandler] = [_NoRedirects()]
        if _is_loopback(urllib.parse.urlsplit(self._url).hostname or ""):
            # Python proxies loopback too unless no_proxy says otherwise, and whoever
            # answers as the proxy would publish the keys.
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._inflight: Future[bool] | None = None
        self._last_attempt = -math.inf
        self._fetched_at = -math.inf
        self._thread: threading.Thread | None = None
        self._process = ProcessThread(self._follow_here)
        self._failing = False

    def find(self, kid: str) -> Key | None:
        """The key ``kid`` names among those held now (never a network call)."""
        process = self._process
        process.lookups_until_pid_check -= 1
        if process.pid != ThisProcess.pid or process.lookups_until_pid_check < 0:
            process.check()
        return self._by_kid.get(kid)

    def refresh_for(self, kid: str) -> bool:
        """Fetch now unless a fetch began within ``min_interval``; whether ``kid`` is known.

        Blocks the calling thread for that fetch, at most twice ``timeout``.
        """
        future = self._requested(kid)
        if future is not None:
            with contextlib.suppress(FutureTimeoutError):
                future.result(timeout=self._wait)
        return kid in self._by_kid

    async def refresh_for_async(self, kid: str) -> bool:
        """``refresh_for`` without blocking the event loop: the fetch runs in the thread."""
        future = self._requested(kid)
        if future is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.wrap_future(future), self._wait)
        return kid in self._by_kid

    @property
    def url(self) -> str:
        return self._url

    @property
    def staleness(self) -> float:
        """Seconds since the last good fetch in this process (``inf`` before the first)."""
        return self._clock() - self._fetched_at

    def keys(self) -> list[Key]:
        """Every key held now."""
        return list(self._by_kid.values())

    def jwks(self) -> dict[str, Any]:
        """The keys held now as a JWKS document, as ``Keyring.jwks`` writes one."""
        return {"keys": [key.public_jwk() for key in self.keys()]}

    def start(self, *, wait: bool = True) -> bool:
        """Follow the URL from this process; with ``wait``, wait (bounded) for the first fetch.

        Whether keys are held. Call it at start-up (a lifespan handler, gunicorn's
        ``post_fork``); lookups start the thread on first use anyway.
        """
        self._process.ensure(wait=False)
        if wait and self._fetched_at == -math.inf:
            future = self._requested(None)
            if future is not None:
                with contextlib.suppress(FutureTimeoutError):
                    future.result(timeout=self._wait)
        return bool(self._by_kid)

    def close(self) -> None:
        """Stop the thread (waiting at most for a fetch in flight); the keys held stay usable."""
        self._process.closed = True
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(self._wait + 1)

    def __enter__(self) -> RemoteKeyring:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RemoteKeyring({self._url!r}, kids={sorted(self._entries)})"

    @property
    def _wait(self) -> float:
        """How long a caller waits for a fetch: connecting, then the whole body."""
        return 2 * self._timeout

    def _follow_here(self, forked: bool, wait: bool) -> None:
        if forked:  # the parent's thread, lock and events stay there
            self._lock = threading.Lock()
            self._wake = threading.Event()
            self._stop = threading.Event()
            self._inflight = None
            self._last_attempt = -math.inf  # this process's own rate limit: fetch at once
        self._thread = threading.Thread(target=self._follow, name="jwtcookie-jwks", daemon=True)
        self._thread.start()

    def _requested(self, kid: str | None) -> Future[bool] | None:
        """The fetch to wait for: the one in flight, or a new one unless rate-limited."""
        self._process.check()  # a real pid check: a fork from C skips the at-fork handlers
        if kid is not None and kid in self._by_kid:
            return None
        with self._lock:
            if self._inflight is None:
                if self._process.closed or self._clock() - self._last_attempt < self._min_interval:
                    return None
                self._inflight = _running_future()
                self._wake.set()
            return self._inflight

    def _follow(self) -> None:
        due = self._clock()
        backoff = self._min_interval
        while not self._stop.is_set():
            self._wake.wait(max(0.0, due - self._clock()))
            if self._stop.is_set():
                break
            self._wake.clear()
            with self._lock:
                if self._inflight is None:
                    if self._clock() < due:
                        continue
                    self._inflight = _running_future()
                future = self._inflight
                self._last_attempt = self._clock()
            ok = False
            try:
                ok = self._fetch()
            except Exception:  # a bug must not stop the refreshes: log it, keep the keys
                log.exception("jwtcookie: fetching the JWKS at %s failed", self._url)
            finally:
                with self._lock:
                    self._inflight = None
                future.set_result(ok)
            if ok:
                backoff = self._min_interval
                wait = self._refresh_every * random.uniform(0.9, 1.0)  # noqa: S311  # spread
            else:
                wait = backoff * random.uniform(1.0, 1.5)  # noqa: S311  # spread the retries
                backoff = min(backoff * 2, self._refresh_every)
            # Whatever the schedule says, fetches start at most once per min_interval.
            due = self._last_attempt + max(wait, self._min_interval)

    def _fetch(self) -> bool:
        """One fetch: True when it gave usable keys (now held), False when the last stay."""
        self.fetches += 1
        try:
            document = json.loads(self._download())
            keys, entries = _parse(document)
        except (OSError, HTTPException, ValueError) as error:
            if not self._failing:
                log.warning(
                    "jwtcookie: could not fetch the JWKS at %s (%s); keeping the %d keys held "
                    "and retrying.",
                    self._url,
                    _describe(error),
                    len(self._entries),
                )
                self._failing = True
            return False
        if self._failing:
            log.warning("jwtcookie: the JWKS at %s answers again.", self._url)
            self._failing = False
        if not entries and (self._entries or self._fetched_at == -math.inf):
            log.warning(
                "jwtcookie: the JWKS at %s publishes no signing key: no token verifies until "
                "it does.",
                self._url,
            )
        withdrawn = sorted(kid for kid in self._entries if entries.get(kid) != self._entries[kid])
        added = sorted(kid for kid in entries if kid not in self._entries)
        by_kid: dict[str | None, Key] = {kid: key for kid, key in keys.items()}
        self._by_kid = by_kid  # one reference swap: readers see the old keys or the new
        self._entries = entries
        if withdrawn:
            self.generation += 1  # after the swap: a token verified with them is forgotten
        if withdrawn or added:
            log.info(
                "jwtcookie: JWKS at %s: kids now %s (added %s, withdrawn %s)",
                self._url,
                sorted(entries),
                added,
                withdrawn,
            )
        self._fetched_at = self._clock()
        return True

    def _download(self) -> bytes:
        """The body of a 200 answer, read against a deadline and a size limit."""
        request = urllib.request.Request(  # noqa: S310  # the scheme was checked: http(s) only
            self._url, headers={"Accept": "application/json", "User-Agent": "jwtcookie"}
        )
        deadline = time.monotonic() + self._timeout
        with self._opener.open(request, timeout=self._timeout) as response:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            body = bytearray()
            while True:
                chunk = response.read1(64 * 1024)
                if not chunk:
                    return bytes(body)
                body += chunk
                if len(body) > MAX_BYTES:
                    raise ValueError(f"the document is over {MAX_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise ValueError(f"the document took over {self._timeout:g} s to arrive")


def _running_future() -> Future[bool]:
    """A future already running: a waiter that gives up cannot cancel it for the others."""
    future: Future[bool] = Future()
    future.set_running_or_notify_cancel()
    return future


def _parse(document: Any) -> tuple[dict[str, Key], dict[str, dict[str, Any]]]:
    """The usable signing keys by kid; entries that are not are skipped, with a warning.

    None at all when the document offers no signing key (the issuer's emergency stop); a
    ``ValueError`` when it offers some and none is usable (a failure: the last keys stay).
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document (an object with a `keys` list)")
    keys: dict[str, Key] = {}
    entries: dict[str, dict[str, Any]] = {}
    offered = False
    for entry in document["keys"][:MAX_KEYS]:
        if isinstance(entry, dict) and entry.get("use", "sig") != "sig":
            continue  # an encryption key is not for verifying tokens
        offered = True
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid or kid in keys:
            log.warning("jwtcookie: skipped a JWKS key without a kid of its own (%r)", kid)
            continue
        try:
            (key,) = Keyring.from_jwks({"keys": [entry]}).keys()
        except (ValueError, TypeError, KeyError, jwt.PyJWTError) as error:
            log.warning("jwtcookie: skipped JWKS key %r: %s", kid, _describe(error))
            continue
        keys[kid] = key
        entries[kid] = entry
    if offered and not keys:
        raise ValueError("the document holds no usable signing key")
    return keys, entries


def _checked_url(url: object, allow_http: bool) -> str:
    if not isinstance(url, str):
        raise TypeError(f"jwtcookie: the JWKS url is a str, not {type(url).__name__}.")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(
            f"jwtcookie: {url!r} is not a JWKS URL such as "
            "'https://login.example/.well-known/jwks.json'."
        )
    if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        raise ValueError(
            f"jwtcookie: {url!r} is plain http: whoever is on the path could swap the keys and "
            "sign any token. Use https, or pass allow_http=True where the network between the "
            "services is trusted (a service mesh that encrypts it)."
        )
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _describe(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    return f"{type(error).__name__}: {reason if reason is not None else error}"


__all__ = ["RemoteKeyring"]
