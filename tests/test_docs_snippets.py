"""Every Python snippet in the README and docs/ runs, as a reader would paste it.

The blocks of one page run in order in one namespace (a later block may use what an earlier
one defined), with ``JWT_SECRET`` set and a scratch working directory. A block preceded by
``<!-- snippet: not run: REASON -->`` is shown only (a file of another project, such as a
Django ``settings.py``), and its reason says which test covers it instead. A page that opens
with ``<!-- snippets: run by tests/test_x.py -->`` has its snippets run by that test file
(one that needs a project or a server around them). A page whose framework is not installed
here is skipped, naming the tox cell that installs it (``tox -e py311-<framework>``); any other
missing import fails. What the snippets
do is tested beside them (each framework's page has its tests); here, that each one runs.
"""

from __future__ import annotations

import importlib.util
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.frameworks.cells import CELLS, REQUIRED
from tests.harness import SECRET, key_pair

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("demos/*/README.md")],
    key=lambda page: str(page),
)
BLOCK = re.compile(r"(?:<!-- snippet: (?P<mark>[^>]*?) -->\s*\n)?```python\n(?P<code>.*?)```", re.S)
IMPORT = re.compile(r"^\s*(?:from|import) ([a-z_][a-z0-9_]*)", re.M)


def blocks(page: Path) -> list[tuple[str, str]]:
    """(mark, code) of every ```python block of ``page``, in order."""
    text = page.read_text()
    return [(match["mark"] or "", match["code"]) for match in BLOCK.finditer(text)]


def missing_modules(code: str) -> list[str]:
    return sorted({name for name in IMPORT.findall(code) if importlib.util.find_spec(name) is None})


RUN_BY = re.compile(r"\A.*?<!-- snippets: run by (?P<test>tests/\S+\.py)[^>]*-->", re.S)


def runner_of(page: Path) -> str | None:
    """The test file a page names as the one that runs its snippets, if any."""
    first_lines = "\n".join(page.read_text().splitlines()[:3])
    found = RUN_BY.match(first_lines)
    return found["test"] if found else None


def runnable_pages() -> list[Any]:
    pages = []
    for page in PAGES:
        found = blocks(page)
        if not found or runner_of(page):
            continue
        code = "\n".join(code for mark, code in found if not mark.startswith("not run"))
        missing = missing_modules(code)
        name = str(page.relative_to(ROOT))
        elsewhere = [module for module in missing if module in CELLS and module not in REQUIRED]
        if missing and elsewhere == missing:  # every one a framework another cell installs
            cells = ", ".join(sorted({f"tox -e {CELLS[module]}" for module in missing}))
            skip = pytest.mark.skip(reason=f"needs {', '.join(missing)}: {cells}")
            pages.append(pytest.param(page, id=name, marks=skip))
        else:  # a missing module of no cell (a typo, an undeclared dependency) fails here
            pages.append(pytest.param(page, id=name))
    return pages


@pytest.mark.parametrize("page", runnable_pages())
def test_every_snippet_of_the_page_runs(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the snippets read from the environment, as a deployment would provide it.
    private_pem, public_pem = key_pair("EdDSA")
    (tmp_path / "jwt.pem").write_bytes(private_pem)
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("JWT_SECRET_PREVIOUS", "previous-" + SECRET)
    monkeypatch.setenv("JWT_PRIVATE_KEY_FILE", str(tmp_path / "jwt.pem"))
    monkeypatch.setenv("JWT_PUBLIC_KEY", public_pem.decode())
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": f"snippet_{page.stem.replace('-', '_')}"}
    ran = 0
    for number, (mark, code) in enumerate(blocks(page), start=1):
        if mark.startswith("not run"):
            assert mark.partition(":")[2].strip(), f"{page.name} block {number}: say why"
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # frameworks' own, at import
            exec(compile(code, f"{page.name}[block {number}]", "exec"), namespace)  # noqa: S102
        ran += 1
    assert ran, f"{page.name} shows no snippet that runs"


def test_a_page_run_elsewhere_names_a_test_that_reads_it() -> None:
    for page in PAGES:
        test = runner_of(page)
        if test is not None:
            assert page.name in (ROOT / test).read_text(), f"{test} does not read {page.name}"
