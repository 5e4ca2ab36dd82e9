"""The release check: the sdist and the wheel are built, complete, and work without the checkout.

`python -m build` makes both (the wheel from the sdist, as a packager would), `twine check
--strict` passes, the wheel holds the package and nothing else, the sdist holds what a
packager needs to rebuild and test, and the wheel installed alone into a fresh venv (no
extras: PyJWT and werkzeug from pip's cache or the index) wraps a WSGI and an ASGI app
through login, renewal and logout (tests/release_smoke.py) and runs the `jwtcookie` command.
"""

from __future__ import annotations

import email.message
import email.parser
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from trove_classifiers import classifiers as known_classifiers

import jwtcookie

if sys.version_info >= (3, 11):
    import tomllib
else:  # coverage[toml] brings it
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION = jwtcookie.__version__
BUILD_SECONDS = 300  # an isolated build installs setuptools: cache, or the index
INSTALL_SECONDS = 300
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")  # tox.ini's py3{10,11,12,13}
SDIST_NEEDS = (
    "LICENSE",
    "README.md",
    "CHANGELOG.md",
    "SECURITY.md",
    "CONTRIBUTING.md",
    "pyproject.toml",
    "tox.ini",
    "mkdocs.yml",
    "conftest.py",
    "tests/conftest.py",
    "tests/test_release.py",
    "docs/index.md",
    "docs/pictures/renewal.svg",
    "scripts/pictures.py",
    "demos/starlette_demo/__init__.py",
    "benchmarks/RESULTS.md",
)
EXTRAS = ("cryptography", "redis", "flask", "starlette", "pytest")
FIND_EXTRAS = f"import importlib.util as u; print([m for m in {EXTRAS!r} if u.find_spec(m)])"
PLAIN_ENV = {  # what pip and the venv's Python see: none of the checkout, none of our venv
    key: value
    for key, value in os.environ.items()
    if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP"}
}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], BUILD_SECONDS)
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (path,) = dist.glob(f"jwtcookie-{VERSION}-py3-none-any.whl")
    return path


@pytest.fixture(scope="module")
def sdist(dist: Path) -> Path:
    (path,) = dist.glob(f"jwtcookie-{VERSION}.tar.gz")
    return path


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A venv holding the wheel and its dependencies alone, outside the checkout."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], 60)
    python = venv / "bin" / "python"
    run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python), "install"),
            *("--quiet", "--disable-pip-version-check", "--prefer-binary", "--retries", "2"),
            str(wheel),
        ],
        INSTALL_SECONDS,
    )
    return venv


def run(command: list[str], timeout: float, cwd: Path | None = None) -> str:
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=PLAIN_ENV,
        check=False,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def sdist_names(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as archive:
        return [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]


def metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(f"jwtcookie-{VERSION}.dist-info/METADATA").decode()
    return email.parser.Parser().parsestr(text)


def test_twine_check_strict_passes(dist: Path) -> None:
    files = sorted(str(path) for path in dist.iterdir())
    output = run([sys.executable, "-m", "twine", "check", "--strict", *files], 120)
    assert output.count("PASSED") == 2, output


def test_the_wheel_holds_the_package_and_py_typed_and_nothing_else(wheel: Path) -> None:
    names = wheel_names(wheel)
    package = [name for name in names if not name.startswith(f"jwtcookie-{VERSION}.dist-info/")]
    assert package, names
    strays = [name for name in package if not name.startswith("jwtcookie/")]
    assert strays == [], f"the wheel carries more than the package: {strays}"
    assert "jwtcookie/py.typed" in package
    assert all(name.endswith((".py", "py.typed")) for name in package), package
    sources = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "jwtcookie").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert set(package) == sources, "every file of jwtcookie/ ships, and no other"


def test_the_license_is_in_the_repository_the_wheel_and_the_sdist(wheel: Path, sdist: Path) -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(f"jwtcookie-{VERSION}.dist-info/licenses/LICENSE").decode() == text
    assert "LICENSE" in sdist_names(sdist)
    assert metadata(wheel)["License-Expression"] == "MIT"


def test_the_sdist_holds_what_a_packager_needs_to_rebuild_and_test(sdist: Path) -> None:
    names = set(sdist_names(sdist))
    missing = [name for name in SDIST_NEEDS if name not in names]
    assert missing == [], f"the sdist lacks {missing}"
    tracked = subprocess.run(
        ["git", "ls-files", "tests", "docs", "jwtcookie"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if tracked.returncode == 0:  # a git checkout: every tracked test and page ships
        lost = [name for name in tracked.stdout.split() if name not in names]
        assert lost == [], f"tracked files missing from the sdist: {lost}"
    strays = [name for name in names if "__pycache__" in name or ".state/" in name]
    assert strays == []


def test_the_metadata_names_the_pythons_the_frameworks_and_the_status(wheel: Path) -> None:
    meta = metadata(wheel)
    assert meta["Version"] == VERSION
    assert meta["Requires-Python"] == ">=3.10"
    classifiers = meta.get_all("Classifier") or []
    unknown = [name for name in classifiers if name not in known_classifiers]
    assert unknown == [], f"not PyPI classifiers: {unknown}"
    pythons = sorted(
        name.rsplit(" ", 1)[1]
        for name in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", name)
    )
    assert tuple(pythons) == SUPPORTED_PYTHONS
    tox = (ROOT / "tox.ini").read_text()
    assert "py3{10,11,12,13}" in tox, "the classifiers name the Pythons tox runs"
    for framework in ("Django", "Flask", "FastAPI", "AsyncIO"):
        assert f"Framework :: {framework}" in classifiers
    assert any(name.startswith("Development Status :: ") for name in classifiers)
    assert any(name.startswith("Topic :: ") for name in classifiers)
    assert "Typing :: Typed" in classifiers
    assert meta["Keywords"]
    assert meta["Description-Content-Type"] == "text/markdown"


def test_the_version_is_written_in_one_place() -> None:
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert "version" not in PYPROJECT["project"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "jwtcookie.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## {re.escape(VERSION)} - \d{{4}}-\d\d-\d\d$", changelog, re.M), (
        "CHANGELOG.md has a dated section for this version"
    )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working directory with nothing of the checkout in it, and the smoke script."""
    shutil.copy(ROOT / "tests" / "release_smoke.py", tmp_path / "release_smoke.py")
    return tmp_path


def test_the_wheel_alone_logs_in_renews_and_logs_out_on_wsgi_and_asgi(
    fresh_venv: Path, outside: Path
) -> None:
    python = fresh_venv / "bin" / "python"
    extras = run([str(python), "-I", "-c", FIND_EXTRAS], 60, cwd=outside).strip()
    assert extras == "[]", f"the fresh venv has more than the wheel needs: {extras}"
    output = run([str(python), "-I", "release_smoke.py"], 60, cwd=outside)
    assert "wsgi: login, renewal, logout ok" in output
    assert "asgi: login, renewal, logout ok" in output
    assert f"jwtcookie {VERSION} from {fresh_venv}" in output, "not the checkout's package"


def test_the_wheel_alone_runs_the_jwtcookie_command(fresh_venv: Path, outside: Path) -> None:
    command = fresh_venv / "bin" / "jwtcookie"
    secret = run([str(command), "secret"], 60, cwd=outside).strip()
    assert re.fullmatch(r"[0-9a-f]{128}", secret), secret
    help_text = run([str(fresh_venv / "bin" / "python"), "-I", "-m", "jwtcookie", "--help"], 60)
    assert "usage: jwtcookie" in help_text
