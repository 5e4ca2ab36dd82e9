"""Flask demo: register, log in, who am I and log out, with jwtcookie.

The middleware owns the token: it reads and verifies the `access_token` cookie, gives each
view `current_user`, writes the cookie on `get_auth().login(...)` and deletes it on
`get_auth().logout()`. This file only checks passwords and stores users.

Run it with `python -m demos.flask_demo`, or point any WSGI server at the factory:
`waitress-serve --call demos.flask_demo.app:create_app`, or
`gunicorn 'demos.flask_demo.app:create_app()'`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys

import bcrypt
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from jwtcookie import secret_from_env
from jwtcookie.contrib.flask import JWTCookie, current_user, get_auth, login_required

from . import db

# Credentials are tiny; anything bigger than this is refused before it is parsed.
MAX_BODY_BYTES = 4 * 1024
# re.fullmatch with an explicit class: \w and \d would also accept non-ASCII letters and digits.
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9]{3,20}")
MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's limit; bcrypt 5 raises beyond it, and we never truncate
# Logging in as an unknown user is checked against this hash (same cost as real ones), so the
# answer takes as long as a wrong password and does not tell which usernames exist.
DUMMY_HASH = bcrypt.hashpw(secrets.token_hex(16).encode(), bcrypt.gensalt())

auth_views = Blueprint("auth", __name__)
# Flask answers OPTIONS on every route by itself; this API, like the Starlette demo, does not.
NO_AUTO_OPTIONS = {"provide_automatic_options": False}


class ApiError(Exception):
    """An error answered as JSON `{"error": message}` with its status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def read_credentials(*, for_register: bool) -> tuple[str, bytes]:
    """The body's username and password (as UTF-8 bytes), or an ApiError(400)."""
    if request.mimetype != "application/json":
        raise ApiError(400, "expected Content-Type: application/json")
    # MAX_CONTENT_LENGTH makes this raise RequestEntityTooLarge for oversized bodies.
    raw = request.get_data()
    try:
        # UTF-8 only (RFC 8259): request.get_json() would also guess UTF-16 and UTF-32.
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "the body must be JSON in UTF-8") from None
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):  # bad JSON; deeply nested arrays
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "expected a JSON object with username and password")
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise ApiError(400, "username and password must be strings")
    try:
        password_bytes = password.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800" in the JSON
        raise ApiError(400, "password is not valid UTF-8") from None
    if len(password_bytes) > MAX_PASSWORD_BYTES:
        raise ApiError(400, f"password must be at most {MAX_PASSWORD_BYTES} bytes of UTF-8")
    if for_register:
        if not USERNAME_PATTERN.fullmatch(username):
            raise ApiError(400, "username must be 3 to 20 ASCII letters or digits")
        if len(password_bytes) < MIN_PASSWORD_BYTES:
            raise ApiError(400, f"password must be at least {MIN_PASSWORD_BYTES} bytes of UTF-8")
    return username, password_bytes


@auth_views.get("/", **NO_AUTO_OPTIONS)
def index() -> Response:
    return current_app.send_static_file("index.html")


@auth_views.post("/api/auth/register", **NO_AUTO_OPTIONS)
def register() -> tuple[Response, int]:
    username, password = read_credentials(for_register=True)
    password_hash = bcrypt.hashpw(password, bcrypt.gensalt())
    user_id = db.insert_user(current_app.config["DEMO_DB"], username, password_hash)
    if user_id is None:
        raise ApiError(409, "username taken")
    user = {"_id": user_id, "username": username}
    get_auth().login(user)  # the response carries the new access_token cookie
    return jsonify(user), 201


@auth_views.post("/api/auth/login", **NO_AUTO_OPTIONS)
def login() -> tuple[Response, int]:
    username, password = read_credentials(for_register=False)
    row = None
    if USERNAME_PATTERN.fullmatch(username):  # any other name never registered
        row = db.find_user(current_app.config["DEMO_DB"], username)
    stored_hash = row["password_hash"].encode("ascii") if row else DUMMY_HASH
    password_ok = bcrypt.checkpw(password, stored_hash)  # always run, even for unknown users
    if row is None or not password_ok:
        raise ApiError(401, "wrong username or password")
    user = {"_id": str(row["id"]), "username": row["username"]}
    get_auth().login(user)
    return jsonify(user), 200


@auth_views.get("/api/auth/check", **NO_AUTO_OPTIONS)
@login_required  # 401 {"error": "authentication required"} without a valid token
def check() -> tuple[Response, int]:
    # The answer comes from the verified token alone: no database lookup, so a token issued
    # by another service that shares JWT_SECRET works too.
    user_id, username = current_user.claims.get("_id"), current_user.claims.get("username")
    if not isinstance(user_id, str) or not isinstance(username, str):
        raise ApiError(401, "token carries no user")
    return jsonify({"_id": user_id, "username": username}), 200


@auth_views.post("/api/auth/logout", **NO_AUTO_OPTIONS)
def logout() -> tuple[str, int]:
    get_auth().logout()  # the response carries the cookie deletion
    return "", 204


@auth_views.app_errorhandler(ApiError)
def api_error(error: ApiError) -> tuple[Response, int]:
    return jsonify(error=error.message), error.status


@auth_views.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> ResponseReturnValue:
    """Flask answers errors (404, 405, 500, ...) with HTML; this API answers JSON."""
    if isinstance(error, RequestEntityTooLarge):  # over MAX_CONTENT_LENGTH
        return jsonify(error="request body too large"), 400
    response = error.get_response()  # keeps headers such as Allow on a 405
    response.data = json.dumps({"error": error.name}).encode()
    response.content_type = "application/json"
    return response


def secret_from_environment() -> str:
    if os.environ.get("JWT_SECRET"):
        return secret_from_env("JWT_SECRET")  # ValueError when shorter than 32 bytes
    # Demo convenience only. In production always set JWT_SECRET (openssl rand -hex 64):
    # a random secret logs everyone out on restart and differs between worker processes.
    print(
        "flask_demo: JWT_SECRET is not set; using a random secret for this process "
        "(logins end when it stops)",
        file=sys.stderr,
    )
    return secrets.token_hex(32)


def create_app(
    *, db_path: str | None = None, secret: str | None = None, secure: bool | None = None
) -> Flask:
    """Build the app; settings left out come from DEMO_DB, JWT_SECRET and COOKIE_SECURE."""
    app = Flask(__name__)
    app.config["DEMO_DB"] = db_path or os.environ.get("DEMO_DB", "demo.sqlite3")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.register_blueprint(auth_views)
    app.after_request(log_request)
    db.init_db(app.config["DEMO_DB"])
    if secret is None:
        secret = secret_from_environment()
    if secure is None:
        # Production: serve over HTTPS and set COOKIE_SECURE=1 (or hard-code secure=True).
        secure = os.environ.get("COOKIE_SECURE", "0") == "1"
    JWTCookie(  # raises ValueError for a secret shorter than 32 bytes
        app,
        secret=secret,
        secure=secure,
        # The demo API names the cookie access_token. In your own app leave cookie_name unset:
        # with secure=True it gets the __Host- prefix, so a sibling subdomain cannot plant one.
        cookie_name="access_token",
        # The demo API refuses every cross-site write, with or without the cookie. An API that
        # an SPA on another origin calls (CORS, Bearer tokens) leaves this at its default.
        cross_site_protection="strict",
    )
    return app


def log_request(response: Response) -> Response:
    """One line per request, as an access log would write it (waitress writes none)."""
    current_app.logger.info("%s %s %s", request.method, request.path, response.status_code)
    return response


app: Flask  # for a server pointed at `...app:app`: built by __getattr__ below, on first use


def __getattr__(name: str) -> Flask:
    """`app` for a server pointed at `demos.flask_demo.app:app`, built when first asked for:
    importing this module builds nothing (no database file, no secret)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    global app  # once built, the module keeps it
    app = create_app()
    return app
