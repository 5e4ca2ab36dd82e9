"""The scenario table (tests/scenarios.py) under every server of the matrix, over real HTTP.

tests/test_real_servers.py runs uvicorn (`--interface auto`), hypercorn (ASGI), waitress and
werkzeug; this adds the rest. Each server serves the bare apps of tests/server_apps.py and
decides what the middleware is: hypercorn from the class's `__call__`, the others from how
they are told to serve it. A server whose package is not in the test extra runs in its own
tox cell (`tox -e py311-gunicorn`) and is skipped elsewhere, naming that cell; in the cell
(`MATRIX_REQUIRES` names it) it must be installed.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.frameworks.cells import installed_or_skip
from tests.harness import Client
from tests.scenarios import SCENARIOS
from tests.servers import LOOPBACK, Command, Server, log_count, running_server

pytestmark = pytest.mark.e2e

APP = "tests.server_apps"
PYTHON = sys.executable


def uwsgi(port: int) -> list[str]:
    """uWSGI's own binary, beside this Python, with this environment's packages (`--home`)."""
    binary = shutil.which("uwsgi", path=str(Path(PYTHON).parent)) or "uwsgi"
    return [
        binary, "--http-socket", f"{LOOPBACK}:{port}", "--module", f"{APP}:wsgi",
        "--home", sys.prefix, "--master", "--processes", "2", "--threads", "2",
        "--need-app", "--die-on-term",  # exit when the app fails to load, and on SIGTERM
    ]  # fmt: skip


@dataclass(frozen=True)
class Deployment:
    module: str  # the server's package: installed, or skipped
    cell: str  # the tox cell that installs it
    command: Command
    ready: Callable[[Server], bool] = lambda server: True


DEPLOYMENTS = {
    # Two worker processes sharing the port: every request may land on either.
    "uvicorn-workers-2": Deployment("uvicorn", "py311", lambda port: [
        PYTHON, "-m", "uvicorn", f"{APP}:asgi", "--host", LOOPBACK, "--port", str(port),
        "--interface", "auto", "--workers", "2",
    ], log_count("Started server process", 2)),
    # hypercorn tells WSGI from ASGI by itself, as it does ASGI in test_real_servers.py.
    "hypercorn-wsgi": Deployment("hypercorn", "py311", lambda port: [
        PYTHON, "-m", "hypercorn", f"{APP}:wsgi", "--bind", f"{LOOPBACK}:{port}",
    ]),
    "gunicorn-sync": Deployment("gunicorn", "py311-gunicorn", lambda port: [
        PYTHON, "-m", "gunicorn", "--bind", f"{LOOPBACK}:{port}", "--worker-class", "sync",
        "--workers", "2", f"{APP}:wsgi",
    ], log_count("Booting worker", 2)),
    "gunicorn-gthread": Deployment("gunicorn", "py311-gunicorn", lambda port: [
        PYTHON, "-m", "gunicorn", "--bind", f"{LOOPBACK}:{port}", "--worker-class", "gthread",
        "--workers", "2", "--threads", "4", f"{APP}:wsgi",
    ], log_count("Booting worker", 2)),
    "granian-asgi": Deployment("granian", "py311-granian", lambda port: [
        PYTHON, "-m", "granian", "--interface", "asgi", "--host", LOOPBACK,
        "--port", str(port), f"{APP}:asgi",
    ]),
    "granian-wsgi": Deployment("granian", "py311-granian", lambda port: [
        PYTHON, "-m", "granian", "--interface", "wsgi", "--host", LOOPBACK,
        "--port", str(port), f"{APP}:wsgi",
    ]),
    "daphne": Deployment("daphne", "py311-daphne", lambda port: [
        PYTHON, "-m", "daphne", "--bind", LOOPBACK, "--port", str(port), f"{APP}:asgi",
    ]),
    # The uwsgi package installs a binary and uwsgidecorators, its one importable module.
    "uwsgi": Deployment(
        "uwsgidecorators", "py311-uwsgi", uwsgi, log_count("spawned uWSGI worker", 2)
    ),
}  # fmt: skip


@pytest.fixture(params=sorted(DEPLOYMENTS), scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    deployment = DEPLOYMENTS[request.param]
    installed_or_skip(deployment.module, deployment.cell)
    with running_server(request.param, deployment.command, ready=deployment.ready) as started:
        yield started


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_the_core_scenario_holds_under_every_server(
    server: Server, scenario: Callable[[Client], None]
) -> None:
    scenario(server)
