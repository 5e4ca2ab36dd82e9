"""The default test command enforces typing, lint, format and layers: mypy --strict, ruff,
ruff format, import-linter (.pre-commit-config.yaml runs the same)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS = 300  # a cold mypy run takes a minute at most; this bounds a hung one


def run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def test_ruff_finds_nothing_to_fix() -> None:
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_finds_nothing_to_change() -> None:
    result = run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_package_passes_mypy_strict() -> None:
    result = run("mypy", "--strict", "jwtcookie")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_package_keeps_its_import_layers() -> None:
    """pyproject.toml's import-linter contracts: imports only go down, and never in a circle."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout
