"""The README's two set-up commands stay true: CI runs the second one verbatim."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_starts_with_exactly_two_commands_demo_then_tests() -> None:
    demo, tests = readme_commands()
    assert "demos." in demo
    assert ".[demo]" in demo
    assert "pytest" in tests
    assert ".[test]" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, tests = readme_commands()
    assert tests in (ROOT / ".ci" / "run").read_text().splitlines()


def test_ci_fails_when_no_test_ran() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert '"$status" -eq 5' in script
    assert "exit 1" in script
