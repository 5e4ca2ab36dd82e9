"""Branch coverage of jwtcookie/ in the default test run, with a floor it may not fall below.

The repository's root conftest.py loads this plugin before tests/conftest.py imports
jwtcookie, so measuring starts as this module is imported; at configuration it goes on only
for a whole run: no files, ``-k`` or ``-m`` on the command line (a targeted run would report
a meaningless figure, slower); ``JWTCOOKIE_COVERAGE=1`` measures any run. The settings and
the floor (``fail_under``) are pyproject.toml's ``[tool.coverage.*]``; the full report, with
the missing lines, is written to test-artifacts/coverage.txt.

The floor holds for the run CI makes, where the Redis and browser tests cannot skip
(``JWTCOOKIE_REQUIRE_REDIS=1`` and ``JWTCOOKIE_REQUIRE_BROWSER=1``): there a figure under it
fails the run. Elsewhere the figure is reported and the floor only named. Code run in a
server subprocess (the end-to-end tests) is not counted.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import coverage
import pytest

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "test-artifacts" / "coverage.txt"
ENFORCED_WHEN = ("JWTCOOKIE_REQUIRE_REDIS", "JWTCOOKIE_REQUIRE_BROWSER")


class Measurement:
    def __init__(self) -> None:
        REPORT.parent.mkdir(exist_ok=True)
        self.coverage = coverage.Coverage(config_file=str(ROOT / "pyproject.toml"))
        self.coverage.start()
        self.summary: list[str] = []

    def finish(self, session: pytest.Session) -> None:
        self.coverage.stop()
        self.coverage.save()
        full = io.StringIO()
        total = self.coverage.report(file=full, show_missing=True, skip_covered=True)
        REPORT.write_text(full.getvalue())
        floor = float(self.coverage.get_option("report:fail_under") or 0)
        enforced = all(os.environ.get(name) == "1" for name in ENFORCED_WHEN)
        figure = f"coverage of jwtcookie/ with branches: {total:.2f}% (floor {floor:g}%)"
        self.summary = [f"{figure}; missing lines in {REPORT.relative_to(ROOT)}"]
        if total < floor and enforced and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            self.summary.append(
                f"FAILED: coverage fell under its floor ({total:.2f}% < {floor:g}%): cover the "
                "new code, or say in the commit why the floor moves"
            )
        elif total < floor and not enforced:
            names = " and ".join(f"{name}=1" for name in ENFORCED_WHEN)
            self.summary.append(f"(the floor is enforced with {names}, as CI runs)")


def whole_run(config: pytest.Config) -> bool:
    if os.environ.get("JWTCOOKIE_COVERAGE") == "1":
        return True
    options = config.option
    return not (options.file_or_dir or options.keyword or options.markexpr)


MEASUREMENT = pytest.StashKey[Measurement]()
STARTED = Measurement()


def pytest_configure(config: pytest.Config) -> None:
    if whole_run(config):
        config.stash[MEASUREMENT] = STARTED
    else:
        STARTED.coverage.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    measurement = session.config.stash.get(MEASUREMENT, None)
    if measurement is not None:
        measurement.finish(session)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    measurement = config.stash.get(MEASUREMENT, None)
    if measurement is not None:
        for line in measurement.summary:
            terminalreporter.write_line(line)
