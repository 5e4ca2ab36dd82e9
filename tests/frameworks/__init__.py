"""One small app per framework, each keeping the contract of tests/scenarios.py.

Every module here builds its framework's app the way that framework's users would, wraps it
with `JWTCookieMiddleware(..., **scenarios.OPTIONS)` the way its docs page says, and serves
it under a module-level name a server can import (`tests.frameworks.flask_app:app`). Every
handler reads the login with `get_auth(request)` on the framework's *own* request object,
through `answer` below, so each scenario also checks that `get_auth` finds it there.

Each module also has `build()` (the app, not wrapped: `get_auth` must then name that
framework's fix) and `client(app)`: the framework's own test client, adapted to
`harness.Client` by `tests/frameworks/clients.py`.
"""

from __future__ import annotations

import json
from typing import Any

from jwtcookie import get_auth
from tests.harness import ALICE, chunks, describe

__all__ = ["answer", "chunks"]


def answer(request: Any, action: str = "") -> tuple[int, bytes]:
    """(status, JSON body) for a request: `action` "login" logs alice in, "logout" logs out.

    Outside the middleware `get_auth` raises `LookupError`; the app answers 500 with its
    sentence, which tests/test_frameworks.py reads (each framework would turn the exception
    into its own 500 page, or into an exception in its test client, each differently).
    """
    try:
        auth = get_auth(request)
    except LookupError as error:
        return 500, json.dumps({"error": str(error)}).encode()
    if action == "login":
        auth.login(ALICE)
    elif action == "logout":
        auth.logout()
    return 200, describe(auth)
