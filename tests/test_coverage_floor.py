"""The coverage floor (tests/coverage_floor.py) can fail a run, and only the run CI makes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMALL_RUN = ["tests/test_pass_through.py", "-q", "-p", "no:cacheprovider"]
REQUIRED = {"JWTCOOKIE_REQUIRE_REDIS": "1", "JWTCOOKIE_REQUIRE_BROWSER": "1"}


def pytest_run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    return subprocess.run(
        [sys.executable, "-m", "pytest", *SMALL_RUN],
        cwd=ROOT,
        env={**base, "COVERAGE_FILE": str(tmp_path / ".coverage"), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("enforced", [True, False])
def test_a_figure_under_the_floor_fails_only_where_redis_and_the_browser_cannot_skip(
    tmp_path: Path, enforced: bool
) -> None:
    result = pytest_run(tmp_path, JWTCOOKIE_COVERAGE="1", **(REQUIRED if enforced else {}))
    assert "coverage of jwtcookie/ with branches: " in result.stdout, result.stdout
    if enforced:
        assert result.returncode == 1, result.stdout
        assert "FAILED: coverage fell under its floor" in result.stdout
    else:
        assert result.returncode == 0, result.stdout
        assert "the floor is enforced with JWTCOOKIE_REQUIRE_REDIS=1" in result.stdout


def test_a_targeted_run_measures_nothing(tmp_path: Path) -> None:
    result = pytest_run(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "coverage of jwtcookie/" not in result.stdout
