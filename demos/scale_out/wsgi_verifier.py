"""A verify-only WSGI service (Flask): public keys from the issuer's JWKS, revocations in Redis.

It holds no private key and no secret: it verifies the cookie the issuer set, with the keys
the issuer publishes, and refuses what any service revoked. It cannot sign, so it never
renews a cookie (the issuer does, on the user's next visit there). Served by gunicorn with
two worker processes forked from a master that imported this module (``gunicorn_conf.py``):
the keyring and the store each start their own thread in every worker.

    gunicorn -c demos/scale_out/gunicorn_conf.py --bind 127.0.0.1:8001 \
        demos.scale_out.wsgi_verifier:app

with ``JWKS_URL`` and ``REDIS_URL`` in the environment (``python -m demos.scale_out`` sets
them), and optionally ``JWKS_REFRESH_EVERY``, ``JWKS_MIN_INTERVAL``, ``COOKIE_SECURE``.
"""

from __future__ import annotations

import os

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

from jwtcookie.contrib.flask import JWTCookie, get_auth
from jwtcookie.jwks import RemoteKeyring
from jwtcookie.redis import RedisRevocations

keys = RemoteKeyring(
    os.environ["JWKS_URL"],  # in production an https:// URL (plain http only to 127.0.0.1)
    refresh_every=float(os.environ.get("JWKS_REFRESH_EVERY", "60")),
    min_interval=float(os.environ.get("JWKS_MIN_INTERVAL", "10")),
)
store = RedisRevocations(os.environ["REDIS_URL"])

app = Flask(__name__)
JWTCookie(  # checked now, at import, not at the first request
    app,
    keys=keys,
    revocations=store,
    secure=os.environ.get("COOKIE_SECURE", "0") == "1",  # 1 behind https
)


@app.get("/whoami")
def whoami() -> ResponseReturnValue:
    auth = get_auth()
    body = {"service": "wsgi-verifier", "pid": os.getpid(), "reason": auth.reason.value}
    if not auth.is_authenticated:
        return jsonify({**body, "error": "not logged in"}), 401
    return jsonify({**body, "user": dict(auth.user)})


@app.post("/logout")
def logout() -> ResponseReturnValue:
    get_auth().logout()  # any service can log out: the store revokes it everywhere
    return "", 204
