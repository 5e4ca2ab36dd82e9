"""Print the GitHub Actions matrix of every tox cell, for .github/workflows/ci.yml.

    python scripts/ci_matrix.py    # matrix={"include": [{"env": "py310", "python": "3.10"}, ...]}

The cells are `tox -l`'s (tox.ini is their one list); each runs on the Python its name
starts with, and a cell without one (lint, docs) on DEFAULT_PYTHON.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

DEFAULT_PYTHON = "3.11"


def cells() -> list[str]:
    listed = subprocess.run(
        [sys.executable, "-m", "tox", "-l"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [line.strip() for line in listed.stdout.splitlines() if line.strip()]


def python_of(env: str) -> str:
    found = re.match(r"py3(\d+)(?:-|$)", env)
    return f"3.{found.group(1)}" if found else DEFAULT_PYTHON


def main() -> None:
    include = [{"env": env, "python": python_of(env)} for env in cells()]
    print("matrix=" + json.dumps({"include": include}, separators=(",", ":")))


if __name__ == "__main__":
    main()
