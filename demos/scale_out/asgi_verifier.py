"""A verify-only ASGI service (Starlette): public keys from the issuer's JWKS, revocations in Redis.

The same as ``wsgi_verifier.py``, on the ASGI side: an unknown kid is fetched without
blocking the event loop, a logout awaits the revocation. Served by uvicorn with two worker
processes (each imports this module and starts its own keyring and store in the lifespan):

    uvicorn demos.scale_out.asgi_verifier:app --workers 2 --port 8002

with ``JWKS_URL`` and ``REDIS_URL`` in the environment (``python -m demos.scale_out`` sets
them), and optionally ``JWKS_REFRESH_EVERY``, ``JWKS_MIN_INTERVAL``, ``COOKIE_SECURE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jwtcookie import JWTCookieMiddleware, Settings, get_auth
from jwtcookie.jwks import RemoteKeyring
from jwtcookie.redis import RedisRevocations

keys = RemoteKeyring(
    os.environ["JWKS_URL"],  # in production an https:// URL (plain http only to 127.0.0.1)
    refresh_every=float(os.environ.get("JWKS_REFRESH_EVERY", "60")),
    min_interval=float(os.environ.get("JWKS_MIN_INTERVAL", "10")),
)
store = RedisRevocations(os.environ["REDIS_URL"])
settings = Settings(  # checked now, at import, not at the first request
    keys=keys,
    revocations=store,
    secure=os.environ.get("COOKIE_SECURE", "0") == "1",  # 1 behind https
)


async def whoami(request: Request) -> Response:
    auth = get_auth(request)
    body = {"service": "asgi-verifier", "pid": os.getpid(), "reason": auth.reason.value}
    if not auth.is_authenticated:
        return JSONResponse({**body, "error": "not logged in"}, status_code=401)
    return JSONResponse({**body, "user": dict(auth.user)})


async def logout(request: Request) -> Response:
    get_auth(request).logout()  # any service can log out: the store revokes it everywhere
    return Response(status_code=204)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # Fetch the keys and load the revocations before the first request (in threads: both wait).
    await asyncio.gather(asyncio.to_thread(keys.start), asyncio.to_thread(store.start))
    yield
    await store.aclose()
    await asyncio.to_thread(keys.close)


app = Starlette(
    routes=[Route("/whoami", whoami), Route("/logout", logout, methods=["POST"])],
    middleware=[Middleware(JWTCookieMiddleware, settings=settings)],
    lifespan=lifespan,
)
