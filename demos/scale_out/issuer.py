"""The issuing service: holds the private keys, signs logins, publishes its public keys.

The only service that can sign: it logs users in, renews their cookies and serves
``/.well-known/jwks.json``, from which every other service takes the public keys. It follows
the key directory while it runs, so a key added by ``python -m demos.scale_out rotate`` is
published within a second (and signs ``PUBLISH_AHEAD`` seconds later) with no restart.

Run it alone with ``uvicorn demos.scale_out.issuer:app --port 8000`` and the environment:
``ISSUER_KEY_DIR`` (the private keys; the first one is made there on first run),
``REDIS_URL``, and optionally ``PUBLISH_AHEAD``, ``DEMO_PASSWORD``, ``COOKIE_SECURE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from jwtcookie import JWTCookieMiddleware, Keyring, get_auth
from jwtcookie.redis import RedisRevocations

from .signing_keys import MAX_AGE, ensure_key, load_keyring

KEY_DIR = Path(os.environ["ISSUER_KEY_DIR"])
PUBLISH_AHEAD = float(os.environ.get("PUBLISH_AHEAD", "60"))  # >= the verifiers' refresh
# This demo has no user database: any username logs in with this password. Replace
# check_password with your own user store (see demos/starlette_demo for one with bcrypt).
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo")
USERNAME = re.compile(r"[A-Za-z0-9]{3,20}")
log = logging.getLogger("demos.scale_out.issuer")

ensure_key(KEY_DIR)
keyring = load_keyring(KEY_DIR, publish_ahead=PUBLISH_AHEAD, max_age=MAX_AGE)
store = RedisRevocations(os.environ["REDIS_URL"], max_age=MAX_AGE)


def check_password(username: str, password: str) -> bool:
    return secrets.compare_digest(password.encode(), DEMO_PASSWORD.encode())


async def jwks(request: Request) -> Response:
    return JSONResponse(keyring.jwks(), headers={"Cache-Control": "public, max-age=60"})


async def login(request: Request) -> Response:
    try:
        body: Any = await request.json()
    except ValueError:
        return JSONResponse({"error": "expected a JSON body"}, status_code=400)
    username = body.get("username") if isinstance(body, dict) else None
    password = body.get("password") if isinstance(body, dict) else None
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        return JSONResponse({"error": "username: 3-20 letters or digits"}, status_code=400)
    if not isinstance(password, str) or not check_password(username, password):
        return JSONResponse({"error": "wrong password"}, status_code=401)
    user = {"_id": username, "username": username}
    get_auth(request).login(user)  # signed with the current key; the cookie is set for us
    return JSONResponse(user)


async def whoami(request: Request) -> Response:
    auth = get_auth(request)
    body = {"service": "issuer", "pid": os.getpid(), "reason": auth.reason.value}
    if not auth.is_authenticated:
        return JSONResponse({**body, "error": "not logged in"}, status_code=401)
    return JSONResponse({**body, "user": dict(auth.user)})


async def logout(request: Request) -> Response:
    get_auth(request).logout()  # revocations=store: the session is revoked everywhere
    return Response(status_code=204)


async def logout_everywhere(request: Request) -> Response:
    auth = get_auth(request)
    if auth.is_authenticated:
        await store.revoke_user_async(auth.user.identity)  # every session of this user
    auth.logout()  # and this one, whatever second it began in
    return Response(status_code=204)


async def index(request: Request) -> Response:
    links = "".join(
        f'<li><a href="{url}/whoami">{name}</a></li>'
        for name, url in (
            ("issuer", ""),
            ("WSGI verifier", os.environ.get("WSGI_URL", "")),
            ("ASGI verifier", os.environ.get("ASGI_URL", "")),
        )
        if name == "issuer" or url
    )
    return HTMLResponse(INDEX_HTML.replace("{links}", links))


async def follow_key_directory() -> None:
    """Every second: publish new keys, switch signers, drop expired keys (no restart)."""
    global keyring
    published = describe(keyring)
    while True:
        await asyncio.sleep(1)
        try:
            fresh = await asyncio.to_thread(
                load_keyring, KEY_DIR, publish_ahead=PUBLISH_AHEAD, max_age=MAX_AGE
            )
        except (OSError, ValueError) as error:  # a file being written: try again next second
            log.warning("issuer: could not read the keys (%s)", error)
            continue
        now = describe(fresh)
        if now != published:
            app.rotate_keys(fresh)  # tokens signed with the keys still published stay valid
            keyring, published = fresh, now
            log.warning("issuer: publishing kids %s; signing with %s", *now)


def describe(keys: Keyring) -> tuple[list[str], str | None]:
    """The kids published, and the one that signs."""
    signer = keys.signing_key.kid if keys.signing_key is not None else None
    held = keys.keys()
    return sorted(key.kid or "" for key in held), signer


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    await asyncio.to_thread(store.start)  # load every revocation before the first request
    following = asyncio.create_task(follow_key_directory())
    yield
    following.cancel()
    await store.aclose()


routes = Starlette(
    routes=[
        Route("/", index),
        Route("/.well-known/jwks.json", jwks),
        Route("/login", login, methods=["POST"]),
        Route("/whoami", whoami),
        Route("/logout", logout, methods=["POST"]),
        Route("/logout-everywhere", logout_everywhere, methods=["POST"]),
    ],
    lifespan=lifespan,
)
# Wrapped here rather than with Starlette's Middleware(...), to keep a handle for rotate_keys.
app = JWTCookieMiddleware(
    routes,
    keys=keyring,
    revocations=store,
    secure=os.environ.get("COOKIE_SECURE", "0") == "1",  # 1 behind https (then __Host-...)
)

INDEX_HTML = """<!doctype html>
<meta charset="utf-8">
<title>jwtcookie: scale-out demo</title>
<h1>Log in here, be known everywhere</h1>
<form id="login">
  <input name="username" placeholder="username" required>
  <input name="password" type="password" placeholder="password (demo)" required>
  <button>Log in</button>
</form>
<form id="logout"><button>Log out everywhere</button></form>
<p>Then ask each service who you are (the cookie is sent to every port of 127.0.0.1):</p>
<ul>{links}</ul>
<script>
document.getElementById("login").onsubmit = async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const reply = await fetch("/login", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({username: form.get("username"), password: form.get("password")}),
  });
  alert(reply.ok ? "logged in" : (await reply.json()).error);
};
document.getElementById("logout").onsubmit = async (event) => {
  event.preventDefault();
  await fetch("/logout-everywhere", {method: "POST"});
  alert("logged out everywhere");
};
</script>
"""
