"""Issue 12's "done when": a fresh startproject, set up as docs/django.md says, works.

The module makes ``django-admin startproject mysite .`` and ``manage.py startapp accounts`` in
a temporary folder, then writes every snippet of docs/django.md to the file its first line
names (``# mysite/settings.py: add at the end`` appends), so the docs and what is tested
cannot drift apart. Then: Django's system checks, the snippets' own ``manage.py test``, the
wrap-the-callable snippets, and (``e2e``) the project under gunicorn and under uvicorn.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.django_project.server import serving

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "django.md"
SECRET = "django-project-tests-" + "p" * 48
PASSWORD = "correct horse battery staple"
COMMAND_SECONDS = 120  # bounds every manage.py run


@dataclass(frozen=True)
class Snippet:
    language: str
    text: str

    @property
    def header(self) -> str:
        return self.text.splitlines()[0]

    @property
    def path(self) -> str | None:
        """The file a snippet is, from its first line: ``# a/b.py...`` or ``{# a/b.html #}``."""
        found = re.match(r"^(?:#|\{#) ([\w/]+\.(?:py|html))\b", self.header)
        return found.group(1) if found else None


def snippets() -> list[Snippet]:
    fenced = re.findall(r"^```(\w+)\n(.*?)^```$", DOCS.read_text(), re.MULTILINE | re.DOTALL)
    return [Snippet(language, text) for language, text in fenced]


def environment(**changes: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["JWT_SECRET"] = SECRET
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(site: Path, *arguments: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=site,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        check=False,
    )


def manage(site: Path, *arguments: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    return run(site, "manage.py", *arguments, **env)


def succeeded(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documented project, migrated, with one user: alice."""
    site = tmp_path_factory.mktemp("startproject")
    succeeded(run(site, "-m", "django", "startproject", "mysite", "."))
    succeeded(manage(site, "startapp", "accounts"))
    for snippet in snippets():
        if snippet.path is None:
            continue
        target = site / snippet.path
        if "(the other way)" in snippet.header:
            target = target.with_name(f"other_way_{target.name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if "add at the end" in snippet.header:
            target.write_text(target.read_text() + "\n\n" + snippet.text)
        else:
            target.write_text(snippet.text)
    succeeded(manage(site, "migrate", "--verbosity", "0"))
    create = f"User.objects.create_user('alice', password={PASSWORD!r})"
    user = "from django.contrib.auth.models import User"
    succeeded(manage(site, "shell", "--command", f"{user}; {create}"))
    return site


def test_every_code_snippet_of_the_django_docs_is_a_file_of_the_project() -> None:
    paths = [snippet.path for snippet in snippets() if snippet.language in ("python", "html")]
    assert None not in paths, "a snippet without its file: name it on the first line"
    assert sorted(paths) == [
        "accounts/api.py",
        "accounts/templates/accounts/home.html",
        "accounts/templates/accounts/login.html",
        "accounts/tests.py",
        "accounts/views.py",
        "mysite/asgi.py",
        "mysite/settings.py",
        "mysite/urls.py",
        "mysite/wsgi.py",
    ]


def test_the_documented_project_passes_djangos_system_checks(site: Path) -> None:
    result = succeeded(manage(site, "check"))
    assert "System check identified no issues" in result.stdout


def test_a_missing_secret_fails_the_checks_as_the_docs_show(site: Path) -> None:
    result = manage(site, "check", JWT_SECRET=None)
    assert result.returncode == 1
    (shown,) = [snippet.text for snippet in snippets() if snippet.language == "text"]
    for line in shown.splitlines():
        assert line in result.stderr


def test_the_documented_tests_pass_under_manage_py_test(site: Path) -> None:
    result = succeeded(manage(site, "test", "accounts", "--verbosity", "2"))
    ran = re.findall(r"^(test_\w+) \(accounts\.tests\.LoginTests", result.stderr, re.MULTILINE)
    assert len(ran) == 7, result.stderr
    assert "\nOK\n" in result.stderr


def test_the_other_way_snippets_wrap_the_project(site: Path) -> None:
    """docs/django.md's wsgi.py and asgi.py of the other way, each serving one request."""
    script = textwrap.dedent(
        """
        import asyncio
        import httpx
        from mysite.other_way_wsgi import application as wsgi
        from mysite.other_way_asgi import application as asgi

        token = wsgi.issue({"sub": "1", "username": "alice"})
        cookie = {"cookie": wsgi.cookie_name + "=" + token}
        transport = httpx.WSGITransport(app=wsgi)
        with httpx.Client(transport=transport, base_url="http://localhost") as http:
            print(type(wsgi).__name__, http.get("/whoami", headers=cookie).json()["username"])

        async def over_asgi():
            transport = httpx.ASGITransport(app=asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
                return (await http.get("/whoami", headers=cookie)).json()["username"]

        print(type(asgi).__name__, asyncio.run(over_asgi()))
        """
    )
    result = succeeded(run(site, "-c", script))
    assert result.stdout.split() == ["WSGIMiddleware", "alice", "ASGIMiddleware", "alice"]


# -- under real servers ------------------------------------------------------------------------

SERVERS: dict[str, Callable[[int], list[str]]] = {
    # docs/django.md: `gunicorn mysite.wsgi` and `uvicorn mysite.asgi:application`
    "gunicorn": lambda port: ["gunicorn", "mysite.wsgi", "--bind", f"127.0.0.1:{port}"],
    "uvicorn": lambda port: ["uvicorn", "mysite.asgi:application", "--port", str(port)],
}


@pytest.fixture(params=sorted(SERVERS))
def served(request: pytest.FixtureRequest, site: Path) -> Iterator[str]:
    def command(port: int) -> list[str]:
        return [sys.executable, "-m", *SERVERS[request.param](port)]

    with serving(command, cwd=site, env=environment(), ready_path="/accounts/login/") as url:
        yield url


@pytest.mark.e2e
def test_a_browser_session_on_the_documented_project(served: str) -> None:
    """Login form, @login_required page with {{ user }}, async view, DRF, Ninja, logout."""
    same_origin = {"Sec-Fetch-Site": "same-origin", "Origin": served}
    with httpx.Client(base_url=served, timeout=10.0) as browser:
        assert browser.get("/").headers["location"] == "/accounts/login/?next=/"
        assert browser.get("/accounts/login/").status_code == 200
        assert "csrftoken" in browser.cookies  # the form's token; unused below

        wrong = browser.post(
            "/accounts/login/", data={"username": "alice", "password": "no"}, headers=same_origin
        )
        assert "Wrong username or password." in wrong.text
        assert "access_token" not in browser.cookies

        attack = {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}
        forged = browser.post(
            "/accounts/login/", data={"username": "alice", "password": PASSWORD}, headers=attack
        )
        # It carries no cookie of ours, so jwtcookie leaves it to Django's CSRF check, which
        # refuses it; were it let through, login() would set no cookie on it either.
        assert forged.status_code == 403
        assert "access_token" not in forged.headers.get("set-cookie", "")

        login = browser.post(
            "/accounts/login/",
            data={"username": "alice", "password": PASSWORD},
            headers=same_origin,
        )
        assert (login.status_code, login.headers["location"]) == (302, "/")
        (set_cookie,) = [v for v in login.headers.get_list("set-cookie") if "access_token=" in v]
        assert set_cookie.strip().startswith("access_token=ey")
        assert set_cookie.endswith("; Max-Age=604800; HttpOnly; Path=/; SameSite=Lax")
        assert login.headers["cache-control"] == "private"

        assert "<p>Hello alice!</p>" in browser.get("/").text
        assert browser.get("/whoami").json() == {"username": "alice"}
        assert browser.get("/api/me").json() == {"username": "alice", "scopes": ["authenticated"]}
        assert browser.get("/ninja/me").json() == {"username": "alice"}

        logout = browser.post("/accounts/logout/", headers=same_origin)
        assert logout.headers["location"] == "/accounts/login/"
        assert "access_token" not in browser.cookies
        assert browser.get("/").headers["location"] == "/accounts/login/?next=/"
        anonymous = browser.get("/api/me")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == 'Cookie realm="api"'


# Django's recipe behind a proxy that passes the prefix on (`location /app/ { proxy_pass ...; }`):
# FORCE_SCRIPT_NAME names it; gunicorn moves it into SCRIPT_NAME, uvicorn leaves it in the path.
PREFIXED_SETTINGS = """
from mysite.settings import *  # noqa: F403

FORCE_SCRIPT_NAME = "/app"
JWTCOOKIE = {**JWTCOOKIE, "protected_paths": ["/whoami"]}  # noqa: F405
"""


@pytest.fixture(params=sorted(SERVERS))
def served_under_a_prefix(request: pytest.FixtureRequest, site: Path) -> Iterator[str]:
    (site / "mysite" / "settings_prefixed.py").write_text(PREFIXED_SETTINGS)

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", *SERVERS[request.param](port)]

    env = environment(DJANGO_SETTINGS_MODULE="mysite.settings_prefixed", SCRIPT_NAME="/app")
    with serving(command, cwd=site, env=env, ready_path="/app/accounts/login/") as url:
        yield url


@pytest.mark.e2e
def test_a_protected_path_under_force_script_name_refuses_an_anonymous_request(
    served_under_a_prefix: str,
) -> None:
    """Under uvicorn, GET /app/whoami reached the view anonymously (200, username "")."""
    with httpx.Client(base_url=served_under_a_prefix, timeout=10.0) as browser:
        anonymous = browser.get("/app/whoami")
        assert (anonymous.status_code, anonymous.json()) == (
            401,
            {"error": "authentication required"},
        )
        login = browser.post(
            "/app/accounts/login/",
            data={"username": "alice", "password": PASSWORD},
            headers={"Sec-Fetch-Site": "same-origin"},
        )
        assert (login.status_code, login.headers["location"]) == (302, "/app/")
        assert browser.get("/app/whoami").json() == {"username": "alice"}
