"""MkDocs hooks (mkdocs.yml): the repository's own pages in the site, and links that work in both.

The Markdown in docs/ is written to be read on a code host too, so its links name files
as they sit in the repository: ``../SECURITY.md``, ``../benchmarks/RESULTS.md``, and the
README's ``docs/options.md``. The site publishes the repository's pages under ``repo/`` and
rewrites every relative link from where the file sits in the repository to where it sits in
the site. A link to one of the package's modules goes to its API reference. A link this
cannot place is left as written, for ``mkdocs build --strict`` to report.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
REPO_PAGES = (
    "README.md",
    "SECURITY.md",
    "CHANGELOG.md",
    "CONTRIBUTING.md",
    "benchmarks/README.md",
    "benchmarks/RESULTS.md",
)
PUBLISHED = "repo/"
LINK = re.compile(r"(\]\()([^)\s]+)(\))")
SPHINX_ROLE = re.compile(r":(?:mod|class|func|meth|attr|data|exc|obj):(?=<code>)")


def on_files(files: Files, config: Any) -> Files:
    for page in REPO_PAGES:
        files.append(File.generated(config, PUBLISHED + page, abs_src_path=str(ROOT / page)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    source = repository_path(page.file.src_uri)
    return LINK.sub(lambda match: relinked(match, source, page.file.src_uri), markdown)


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """Docstrings name objects with Sphinx roles (``:class:`Settings```): show the name."""
    return SPHINX_ROLE.sub("", html)


def repository_path(src_uri: str) -> str:
    if src_uri.startswith(PUBLISHED):
        return src_uri.removeprefix(PUBLISHED)
    return "docs/" + src_uri


def site_path(path: str) -> str | None:
    if path.startswith("docs/"):
        return path.removeprefix("docs/")
    if path in REPO_PAGES:
        return PUBLISHED + path
    module = re.fullmatch(r"(jwtcookie(?:/\w+)*?)(?:/__init__)?\.py", path)
    if module:
        return "api.md#" + module.group(1).replace("/", ".")
    return None


def relinked(match: re.Match[str], source: str, src_uri: str) -> str:
    target = match.group(2)
    if re.match(r"[a-z][a-z0-9+.-]*:|#|/", target):  # a URL, an anchor, an absolute path
        return match.group(0)
    path, _, anchor = target.partition("#")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
    placed = site_path(resolved)
    if placed is None:
        return match.group(0)
    placed, _, module_anchor = placed.partition("#")
    link = posixpath.relpath(placed, posixpath.dirname(src_uri) or ".")
    anchor = anchor or module_anchor
    return f"{match.group(1)}{link}{'#' + anchor if anchor else ''}{match.group(3)}"
