"""The docs site builds strictly, with search, an API reference and the pictures; the Markdown
still reads on a code host.

`mkdocs build --strict` fails on a broken link or anchor, a page missing from the nav or an
API reference entry that cannot be rendered (mkdocs.yml's `validation`).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import jwtcookie
import jwtcookie.jwks
import jwtcookie.redis

ROOT = Path(__file__).resolve().parent.parent
BUILD_SECONDS = 300
PICTURES = ("request-path.svg", "renewal.svg", "benchmark.svg", "scale-out.svg")
CODE_HOST_PAGES = [
    *sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "docs").glob("*.md")),
    "README.md",
    "SECURITY.md",
    "CHANGELOG.md",
    "CONTRIBUTING.md",
    "benchmarks/README.md",
]
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_SECONDS,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    print(f"mkdocs build --strict: {time.monotonic() - started:.1f} s")
    return out


def test_the_site_has_a_search_index_of_every_page(site: Path) -> None:
    index = json.loads((site / "search" / "search_index.json").read_text())
    locations = {entry["location"].split("#")[0] for entry in index["docs"]}
    for page in ("", "options/", "renewal/", "wrapping-an-app/", "api/", "repo/SECURITY/"):
        assert page in locations, f"{page!r} is not searchable"
    assert any("renew_after" in entry["text"] for entry in index["docs"])


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (jwtcookie, jwtcookie.__all__),
        (jwtcookie.redis, jwtcookie.redis.__all__),
        (jwtcookie.jwks, jwtcookie.jwks.__all__),
    ],
    ids=["jwtcookie", "jwtcookie.redis", "jwtcookie.jwks"],
)
def test_the_api_reference_documents_every_public_name(
    site: Path, module: object, names: list[str]
) -> None:
    html = (site / "api" / "index.html").read_text()
    prefix = getattr(module, "__name__", "")
    missing = [name for name in names if f'id="{prefix}.{name}"' not in html]
    assert missing == [], f"the API reference lacks {missing}"


def test_the_api_reference_shows_no_sphinx_roles(site: Path) -> None:
    html = (site / "api" / "index.html").read_text()
    assert not re.search(r":(mod|class|func|meth|attr):<code>", html)


def test_every_picture_is_in_the_site_and_shown_on_a_page(site: Path) -> None:
    shown = "\n".join((ROOT / page).read_text() for page in CODE_HOST_PAGES)
    for picture in PICTURES:
        assert (site / "pictures" / picture).is_file(), picture
        assert f"pictures/{picture})" in shown, f"no page shows {picture}"


def test_the_readme_links_the_site_and_shows_a_picture() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "mkdocs serve" in readme
    assert re.search(r"!\[[^\]]+\]\(docs/pictures/[\w-]+\.svg\)", readme)


@pytest.mark.parametrize("page", CODE_HOST_PAGES)
def test_relative_links_resolve_in_the_repository_as_a_code_host_shows_it(page: str) -> None:
    text = FENCE.sub("", (ROOT / page).read_text())
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:|#", target):
            continue
        path = target.split("#")[0]
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
        if not (ROOT / resolved).exists():
            broken.append(target)
    assert broken == [], f"{page} links to files that do not exist: {broken}"
