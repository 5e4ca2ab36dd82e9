"""The scenario table (tests/scenarios.py) under the servers people deploy on, over real HTTP.

uvicorn decides ASGI3 vs ASGI2 vs WSGI from the class's __call__ (`--interface auto`), and
hypercorn likewise; waitress and werkzeug's run_simple serve the WSGI flavour.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest

from tests.harness import Client
from tests.scenarios import SCENARIOS
from tests.servers import LOOPBACK, Command, Server, running_server

pytestmark = pytest.mark.e2e

APP = "tests.server_apps"
SERVERS: dict[str, Command] = {
    "uvicorn-auto": lambda port: [
        sys.executable, "-m", "uvicorn", f"{APP}:asgi",
        "--host", LOOPBACK, "--port", str(port), "--interface", "auto",
    ],
    "hypercorn": lambda port: [
        sys.executable, "-m", "hypercorn", f"{APP}:asgi", "--bind", f"{LOOPBACK}:{port}",
    ],
    "waitress": lambda port: [
        sys.executable, "-m", "waitress", f"--host={LOOPBACK}", f"--port={port}", f"{APP}:wsgi",
    ],
    "werkzeug-run_simple": lambda port: [
        sys.executable, "-c",
        f"from werkzeug.serving import run_simple; from {APP} import wsgi; "
        f"run_simple('{LOOPBACK}', {port}, wsgi)",
    ],
}  # fmt: skip


@pytest.fixture(params=sorted(SERVERS), scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    with running_server(request.param, SERVERS[request.param]) as started:
        yield started


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_the_core_scenario_holds_over_real_http(
    server: Server, scenario: Callable[[Client], None]
) -> None:
    scenario(server)
