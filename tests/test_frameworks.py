"""The scenario table (tests/scenarios.py) on every framework of the matrix.

Each framework's small app (tests/frameworks/) runs the whole table twice: through that
framework's own test client, and over real HTTP (waitress for WSGI, uvicorn for ASGI). Every
handler reads `get_auth(request)` on the framework's own request object, so the table also
pins that `get_auth` finds the login there; and the same app left unwrapped must be told its
framework's fix. A framework that is not installed here is skipped, naming the tox cell that
installs it; in that cell (`MATRIX_REQUIRES` names it) it must be installed.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from jwtcookie import get_auth
from jwtcookie.access import FIXES
from tests.frameworks.cells import installed_or_skip
from tests.harness import SECRET, Client
from tests.scenarios import SCENARIOS
from tests.servers import LOOPBACK, Command, Server, running_server
from tests.test_docs_snippets import blocks

DOCS = Path(__file__).resolve().parents[1] / "docs"


@dataclass(frozen=True)
class Case:
    name: str
    framework: str  # the package that must be importable
    interface: str  # "wsgi" or "asgi": how a server runs it
    cell: str  # the tox cell that installs the framework
    module: str  # in tests/frameworks/
    served: str = "app"  # the module's wrapped app
    options: dict[str, Any] = field(default_factory=dict)  # for build() and client()
    fix: str = ""  # the FIXES entry get_auth names; default: `framework`

    def load(self) -> ModuleType:
        installed_or_skip(self.framework, self.cell)
        if self.framework in WEBTEST_CLIENT:  # its app module imports the test client too
            installed_or_skip("webtest", self.cell)
        with warnings.catch_warnings():
            # Frameworks' own, at import: WebOb (Pyramid, WebTest) imports cgi on 3.11 and 3.12.
            warnings.simplefilter("ignore", DeprecationWarning)
            # Pyramid 2.x imports pkg_resources, which warns that it is deprecated.
            warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
            return importlib.import_module(f"tests.frameworks.{self.module}")

    def client(self, app: Any) -> AbstractContextManager[Client]:
        return self.load().client(app, **self.options)  # type: ignore[no-any-return]


ASGI, WSGI = {"asgi": True}, {"asgi": False}
WEBTEST_CLIENT = {"pyramid", "bottle"}  # tested through WebTest's TestApp
CASES = [
    Case("flask", "flask", "wsgi", "py311-flask3", "flask_app"),
    Case("django-wsgi", "django", "wsgi", "py311-django-newest", "django_app", "wsgi", WSGI),
    Case("falcon-wsgi", "falcon", "wsgi", "py311", "falcon_app", "wsgi", WSGI),
    Case("pyramid", "pyramid", "wsgi", "py311-pyramid", "pyramid_app"),
    Case("bottle", "bottle", "wsgi", "py311-bottle", "bottle_app"),
    Case("starlette", "starlette", "asgi", "py311-starlette-newest", "starlette_app"),
    Case("fastapi", "fastapi", "asgi", "py311-fastapi", "fastapi_app", fix="starlette"),
    Case("django-asgi", "django", "asgi", "py311-django-newest", "django_app", "asgi", ASGI),
    Case("quart", "quart", "asgi", "py311-quart", "quart_app"),
    Case("litestar", "litestar", "asgi", "py311-litestar", "litestar_app"),
    Case("falcon-asgi", "falcon", "asgi", "py311", "falcon_app", "asgi", ASGI),
    Case("sanic", "sanic", "asgi", "py311-sanic", "sanic_app"),
    Case("blacksheep", "blacksheep", "asgi", "py311-blacksheep", "blacksheep_app"),
    Case("ninja-asgi", "ninja", "asgi", "py311-ninja", "ninja_app", "asgi", ASGI, "django"),
    Case("ninja-wsgi", "ninja", "wsgi", "py311-ninja", "ninja_app", "wsgi", WSGI, "django"),
]  # fmt: skip
BY_NAME = {case.name: case for case in CASES}


def serve(case: Case) -> Command:
    """waitress for a WSGI app, uvicorn (interface detected, as by default) for an ASGI one."""
    target = f"tests.frameworks.{case.module}:{case.served}"
    if case.interface == "wsgi":
        return lambda port: [
            sys.executable, "-m", "waitress", f"--host={LOOPBACK}", f"--port={port}", target,
        ]  # fmt: skip
    return lambda port: [
        sys.executable, "-m", "uvicorn", target, "--host", LOOPBACK, "--port", str(port),
    ]  # fmt: skip


@pytest.fixture(params=[case.name for case in CASES], scope="module")
def test_client(request: pytest.FixtureRequest) -> Iterator[Client]:
    case = BY_NAME[request.param]
    with case.client(getattr(case.load(), case.served)) as client:
        yield client


@pytest.fixture(params=[case.name for case in CASES], scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    case = BY_NAME[request.param]
    case.load()
    with running_server(case.name, serve(case)) as started:
        yield started


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_the_core_scenario_holds_through_the_frameworks_test_client(
    test_client: Client, scenario: Callable[[Client], None]
) -> None:
    scenario(test_client)


@pytest.mark.e2e
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_the_core_scenario_holds_over_real_http(
    server: Server, scenario: Callable[[Client], None]
) -> None:
    scenario(server)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_get_auth_outside_the_middleware_names_the_frameworks_fix(case: Case) -> None:
    module = case.load()
    with case.client(module.build(**case.options)) as client:
        reply = client.request()
    assert reply.status == 500, reply
    error = reply.json["error"]
    assert error.startswith("jwtcookie: this request did not pass through JWTCookieMiddleware")
    assert FIXES[case.fix or case.framework] in error


PAGES = {"falcon", "pyramid", "bottle", "quart", "litestar", "sanic", "blacksheep"}


@pytest.mark.parametrize("framework", sorted(PAGES))
def test_the_fix_get_auth_names_is_the_one_line_its_page_shows(framework: str) -> None:
    assert f"`{FIXES[framework]}`" in (DOCS / f"{framework}.md").read_text()


def test_a_sanic_request_on_sanics_own_server_is_told_to_serve_the_app_as_asgi() -> None:
    """Sanic's own server is neither WSGI nor ASGI, so no middleware can be in front of it,
    and `request.scope` raises NotImplementedError there: get_auth says what to do instead."""
    BY_NAME["sanic"].load()
    from sanic import Request, Sanic
    from sanic.compat import Header

    app = Sanic("jwtcookie_own_server")
    request = Request(b"/", Header(), "1.1", "GET", None, app)
    with pytest.raises(LookupError, match="did not pass through") as raised:
        get_auth(request)
    assert FIXES["sanic"] in str(raised.value)
    assert str(raised.value).endswith("served as ASGI.")


# Pages whose framework looks up the calling module by name (Pyramid's `Configurator()`
# finds its package so; Litestar resolves handlers' type hints in their module), which the
# snippet runner's namespace (tests/test_docs_snippets.py) is not: each page opens with
# `<!-- snippets: run by tests/test_frameworks.py -->` and runs here, as a module.
RUN_AS_MODULES = {
    "pyramid.md": "pyramid",
    "litestar.md": "litestar",
    "django-ninja.md": "ninja-asgi",
}
# The Django Ninja page is a project's urls.py and asgi.py: its module is the URLconf here.


@pytest.mark.parametrize("page", sorted(RUN_AS_MODULES))
def test_a_page_runs_as_a_module_of_a_project(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's blocks in order, run as one module that `sys.modules` knows (not imported:
    the Django page's requests import its URLconf from another thread); their asserts run."""
    BY_NAME[RUN_AS_MODULES[page]].load()
    code = "\n".join(code for _mark, code in blocks(DOCS / page))
    module = ModuleType(page.replace(".md", "_page").replace("-", "_"))
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    urls = {"ROOT_URLCONF": module.__name__, "ALLOWED_HOSTS": ["testserver"]}
    with warnings.catch_warnings(), django_settings(urls) if "django" in code else nullcontext():
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        exec(compile(code, str(DOCS / page), "exec"), module.__dict__)  # noqa: S102


def django_settings(overrides: dict[str, Any]) -> AbstractContextManager[Any]:
    """Django's settings, as configured by the first Django app of this run, overridden."""
    from django.test import override_settings

    return override_settings(**overrides)
