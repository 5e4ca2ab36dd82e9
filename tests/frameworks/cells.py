"""Which tox cell installs a framework or server, and what its tests do where it is missing."""

from __future__ import annotations

import importlib.util
import os

import pytest

# The tox cell that installs each framework the test extra leaves out.
CELLS = {
    "pyramid": "py311-pyramid",
    "webtest": "py311-pyramid",
    "bottle": "py311-bottle",
    "quart": "py311-quart",
    "litestar": "py311-litestar",
    "sanic": "py311-sanic",
    "blacksheep": "py311-blacksheep",
}
# What a tox cell installs for the matrix, so there its tests must run, never skip.
REQUIRED = {name for name in os.environ.get("MATRIX_REQUIRES", "").split(",") if name}


def installed_or_skip(module: str, cell: str) -> None:
    """Skip unless `module` is importable, naming the tox cell that installs it; in that cell
    (`MATRIX_REQUIRES` lists it) a missing module fails instead."""
    if importlib.util.find_spec(module) is None:
        if module in REQUIRED:
            pytest.fail(f"{module} must be installed in this cell ({cell})")
        pytest.skip(f"{module} is not installed here: tox -e {cell}")
