"""SECURITY.md's attack table names real tests: a renamed or deleted test fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cited_tests() -> list[tuple[str, str]]:
    """(file, test name) for every `tests/x.py::name` and following `::name` in the table."""
    cited = []
    for line in (ROOT / "SECURITY.md").read_text().splitlines():
        current = None
        for match in re.finditer(r"`(tests/[\w/]+\.py)?::(\w+)`", line):
            current = match.group(1) or current
            if current is not None:
                cited.append((current, match.group(2)))
    return cited


def test_security_md_cites_many_tests() -> None:
    assert len(cited_tests()) >= 30


def test_every_test_security_md_cites_exists() -> None:
    missing = [
        f"{path}::{name}"
        for path, name in cited_tests()
        if not re.search(rf"^(async )?def {name}\(", (ROOT / path).read_text(), re.MULTILINE)
    ]
    assert missing == []
