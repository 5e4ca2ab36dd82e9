"""Starlette demo: register, log in, who am I and log out, with jwtcookie.

The middleware owns the token: it reads and verifies the `access_token` cookie, gives each
request `request.user`, writes the cookie on `get_auth(request).login(...)` and deletes it on
`get_auth(request).logout()`. This file only checks passwords and stores users.

Run it with `python -m demos.starlette_demo`, or point any ASGI server at the factory:
`uvicorn --factory demos.starlette_demo.app:create_app`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any

import bcrypt
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from jwtcookie import JWTCookieMiddleware, Settings, get_auth, secret_from_env

from . import db

# Credentials are tiny; anything bigger than this is refused while it is being read.
MAX_BODY_BYTES = 4 * 1024
# re.fullmatch with an explicit class: \w and \d would also accept non-ASCII letters and digits.
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9]{3,20}")
MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 raises beyond it, and we never truncate
# Logging in as an unknown user is checked against this hash (same cost as real ones), so the
# answer takes as long as a wrong password and does not tell which usernames exist.
DUMMY_HASH = bcrypt.hashpw(secrets.token_hex(16).encode(), bcrypt.gensalt())
INDEX_HTML = Path(__file__).parent / "static" / "index.html"


async def read_credentials(request: Request, *, for_register: bool) -> tuple[str, bytes]:
    """The body's username and password (as UTF-8 bytes), or an HTTPException(400)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(400, "expected Content-Type: application/json")
    raw = b""
    async for chunk in request.stream():  # read at most MAX_BODY_BYTES, whatever the client says
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise HTTPException(400, "request body too large")
    try:
        # UTF-8 only (RFC 8259): json.loads(raw) would also guess UTF-16 and UTF-32.
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "the body must be JSON in UTF-8") from None
    try:
        body: Any = json.loads(text)
    except (ValueError, RecursionError):  # bad JSON; deeply nested arrays
        body = None
    if not isinstance(body, dict):
        raise HTTPException(400, "expected a JSON object with username and password")
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise HTTPException(400, "username and password must be strings")
    try:
        password_bytes = password.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800" in the JSON
        raise HTTPException(400, "password is not valid UTF-8") from None
    if len(password_bytes) > MAX_PASSWORD_BYTES:
        raise HTTPException(400, f"password must be at most {MAX_PASSWORD_BYTES} bytes of UTF-8")
    if for_register:
        if not USERNAME_PATTERN.fullmatch(username):
            raise HTTPException(400, "username must be 3 to 20 ASCII letters or digits")
        if len(password_bytes) < MIN_PASSWORD_BYTES:
            raise HTTPException(
                400, f"password must be at least {MIN_PASSWORD_BYTES} bytes of UTF-8"
            )
    return username, password_bytes


# bcrypt and sqlite3 block for a while (bcrypt ~0.25 s on purpose): the two functions below
# run in Starlette's thread pool, never on the event loop.


def create_user(db_path: str, username: str, password: bytes) -> dict[str, str] | None:
    """Hash the password and store the user; None when the username is taken."""
    password_hash = bcrypt.hashpw(password, bcrypt.gensalt())
    user_id = db.insert_user(db_path, username, password_hash)
    return None if user_id is None else {"_id": user_id, "username": username}


def authenticate(db_path: str, username: str, password: bytes) -> dict[str, str] | None:
    """The user when the password matches, else None (same work for unknown users)."""
    row = None
    if USERNAME_PATTERN.fullmatch(username):  # any other name never registered
        row = db.find_user(db_path, username)
    stored_hash = row["password_hash"].encode("ascii") if row else DUMMY_HASH
    password_ok = bcrypt.checkpw(password, stored_hash)  # always run, even for unknown users
    if row is None or not password_ok:
        return None
    return {"_id": str(row["id"]), "username": row["username"]}


async def index(request: Request) -> Response:
    return FileResponse(INDEX_HTML)


async def register(request: Request) -> Response:
    username, password = await read_credentials(request, for_register=True)
    user = await run_in_threadpool(create_user, request.app.state.db_path, username, password)
    if user is None:
        raise HTTPException(409, "username taken")
    get_auth(request).login(user)  # the response carries the new access_token cookie
    return JSONResponse(user, status_code=201)


async def login(request: Request) -> Response:
    username, password = await read_credentials(request, for_register=False)
    user = await run_in_threadpool(authenticate, request.app.state.db_path, username, password)
    if user is None:
        raise HTTPException(401, "wrong username or password")
    get_auth(request).login(user)
    return JSONResponse(user)


async def check(request: Request) -> Response:
    # The answer comes from the verified token alone: no database lookup, so a token issued
    # by another service that shares JWT_SECRET works too.
    if not request.user.is_authenticated:
        raise HTTPException(401, "not logged in")
    user_id, username = request.user.claims.get("_id"), request.user.claims.get("username")
    if not isinstance(user_id, str) or not isinstance(username, str):
        raise HTTPException(401, "token carries no user")
    return JSONResponse({"_id": user_id, "username": username})


async def logout(request: Request) -> Response:
    get_auth(request).logout()  # the response carries the cookie deletion
    return Response(status_code=204)


async def http_error(request: Request, error: Exception) -> Response:
    """Starlette answers errors (404, 405, ...) in plain text; this API answers JSON."""
    assert isinstance(error, HTTPException)  # noqa: S101 (registered for HTTPException only)
    return JSONResponse({"error": error.detail}, error.status_code, headers=error.headers)


async def server_error(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": "Internal Server Error"}, 500)


def secret_from_environment() -> str:
    if os.environ.get("JWT_SECRET"):
        return secret_from_env("JWT_SECRET")  # ValueError when shorter than 32 bytes
    # Demo convenience only. In production always set JWT_SECRET (openssl rand -hex 64):
    # a random secret logs everyone out on restart and differs between worker processes.
    print(
        "starlette_demo: JWT_SECRET is not set; using a random secret for this process "
        "(logins end when it stops)",
        file=sys.stderr,
    )
    return secrets.token_hex(32)


def create_app(
    *, db_path: str | None = None, secret: str | None = None, secure: bool | None = None
) -> Starlette:
    """Build the app; settings left out come from DEMO_DB, JWT_SECRET and COOKIE_SECURE."""
    db_path = db_path or os.environ.get("DEMO_DB", "demo.sqlite3")
    db.init_db(db_path)
    if secret is None:
        secret = secret_from_environment()
    if secure is None:
        # Production: serve over HTTPS and set COOKIE_SECURE=1 (or hard-code secure=True).
        secure = os.environ.get("COOKIE_SECURE", "0") == "1"
    # Starlette builds its middleware at the first request: check the options now, so a weak
    # secret stops start-up instead of failing every request.
    settings = Settings(
        secret=secret,
        secure=secure,
        # The demo API names the cookie access_token. In your own app leave cookie_name unset:
        # with secure=True it gets the __Host- prefix, so a sibling subdomain cannot plant one.
        cookie_name="access_token",
        # The demo API refuses every cross-site write, with or without the cookie. An API that
        # an SPA on another origin calls (CORS, Bearer tokens) leaves this at its default.
        cross_site_protection="strict",
    )
    app = Starlette(
        routes=[
            Route("/", index),
            Route("/api/auth/register", register, methods=["POST"]),
            Route("/api/auth/login", login, methods=["POST"]),
            Route("/api/auth/check", check),
            Route("/api/auth/logout", logout, methods=["POST"]),
        ],
        middleware=[Middleware(JWTCookieMiddleware, settings=settings)],
        exception_handlers={HTTPException: http_error, 500: server_error},
    )
    app.state.db_path = db_path
    return app


app: Starlette  # for a server pointed at `...app:app`: built by __getattr__ below, on first use


def __getattr__(name: str) -> Starlette:
    """`app` for a server pointed at `demos.starlette_demo.app:app`, built when first asked for:
    importing this module builds nothing (no database file, no secret)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    global app  # once built, the module keeps it
    app = create_app()
    return app
