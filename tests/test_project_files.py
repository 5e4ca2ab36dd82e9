"""A maintained project's files stay true: pre-commit runs the tests' checks, the CI workflow
is valid (actionlint) and runs every tox cell and the docs build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
TIMEOUT = 120


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    workflows = sorted(str(path) for path in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    result = run(str(BIN / "actionlint"), *workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_runs_every_tox_cell_the_docs_build_and_the_readme_command() -> None:
    listed = run(sys.executable, "scripts/ci_matrix.py")
    assert listed.returncode == 0, listed.stderr
    matrix = json.loads(listed.stdout.removeprefix("matrix="))
    envs = {cell["env"]: cell["python"] for cell in matrix["include"]}
    tox = run(sys.executable, "-m", "tox", "-l")
    assert set(envs) == set(tox.stdout.split())
    assert {"docs", "lint", "py310", "py313"} <= set(envs)
    assert envs["py310"] == "3.10"
    assert envs["py313-django-newest"] == "3.13"
    workflow = WORKFLOW.read_text()
    assert "python scripts/ci_matrix.py" in workflow
    assert "bash .ci/run" in workflow


def test_pre_commit_config_is_valid() -> None:
    result = run(str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_runs_the_checks_the_tests_run() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    entries = [hook["entry"] for repo in config["repos"] for hook in repo["hooks"]]
    quality = (ROOT / "tests" / "test_quality.py").read_text()
    for check, in_tests in (
        ("-m ruff check", '"ruff", "check"'),
        ("-m ruff format --check", '"ruff", "format", "--check"'),
        ("-m mypy --strict jwtcookie", '"mypy", "--strict", "jwtcookie"'),
        ("lint-imports --no-cache", '"--no-cache"'),
    ):
        assert any(check in entry for entry in entries), f"pre-commit does not run {check}"
        assert in_tests in quality, f"tests/test_quality.py does not run {check}"


def test_tox_has_a_docs_env_that_builds_the_site_strictly() -> None:
    tox = (ROOT / "tox.ini").read_text()
    section = tox[tox.index("[testenv:docs]") :]
    assert "mkdocs build --strict" in section
    assert "extras = docs" in section
