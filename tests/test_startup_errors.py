"""A configuration mistake is told at start-up, even where the server swallows the exception."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.servers import server_env, start_server, stop_server

pytestmark = pytest.mark.e2e

# Starlette builds its middleware stack on the first ASGI call, the lifespan one under
# uvicorn; uvicorn's lifespan="auto" takes the error for "no lifespan support" and starts.
LAZY_STARLETTE_APP = """
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from jwtcookie import JWTCookieMiddleware


async def home(request):
    return PlainTextResponse("home")


app = Starlette(
    routes=[Route("/", home)],
    middleware=[Middleware(JWTCookieMiddleware, secret="too-short")],
)
"""


def test_a_lazily_built_starlette_stack_tells_the_mistake_before_startup_completes(
    tmp_path: Path,
) -> None:
    (tmp_path / "lazy_app.py").write_text(LAZY_STARLETTE_APP)
    server = start_server(
        "uvicorn-lazy-stack",
        lambda port: [
            sys.executable,
            *("-m", "uvicorn", "lazy_app:app", "--app-dir", str(tmp_path)),
            *("--host", "127.0.0.1", "--port", str(port)),
        ],
        server_env(),
        ready=lambda server: "Application startup complete" in server.log(),
    )
    stop_server(server)
    log = server.log()
    before_startup = log[: log.index("Application startup complete")]
    told = [line for line in before_startup.splitlines() if line.startswith("jwtcookie: ")]
    assert told, f"no 'jwtcookie:' line before startup completed:\n{log}"
    assert "secret" in told[0], told
