"""The default test command enforces typing, lint, format and layers: mypy --strict, ruff,
ruff format, import-linter (.pre-commit-config.yaml runs the same)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tokenize
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


def test_a_type_checker_catches_a_misspelt_or_mistyped_option(tmp_path: Path) -> None:
    """The middleware takes Settings' options as ``**options``; mypy still knows each by name
    and type (``Options``), as it did when the constructor spelled them out."""
    user_code = tmp_path / "user_app.py"
    user_code.write_text(
        "from jwtcookie import JWTCookieMiddleware\n"
        "app = object()\n"
        "JWTCookieMiddleware(app, secret='x' * 64, secrte='y')\n"
        "JWTCookieMiddleware(app, secret='x' * 64, max_age='7d')\n"
        "JWTCookieMiddleware(app, secret='x' * 64, secure=False, protected_paths=['/api'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(user_code)],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["3", "4"], result.stdout
    assert 'Unexpected keyword argument "secrte"' in errors[0]
    assert 'Argument "max_age"' in errors[1]


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


# Comments that are tool directives, not prose: they say nothing to a reader.
PRAGMA = re.compile(r"#\s*(type:|noqa|pragma|pyright:|mypy:|fmt:)")
LAYOUT = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
STATEMENT_START = {tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}


def comment_and_code_lines(source: str) -> tuple[int, int]:
    """Lines holding a comment (pragmas aside), and lines holding code, as tokenize sees them:
    a docstring (a string standing alone as a statement) is neither."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    comments = {
        token.start[0]
        for token in tokens
        if token.type == tokenize.COMMENT and not PRAGMA.match(token.string)
    }
    code: set[int] = set()
    previous = None
    for index, token in enumerate(tokens):
        if token.type == tokenize.COMMENT or token.type in LAYOUT:
            if token.type in STATEMENT_START:
                previous = token
            continue
        docstring = (
            token.type == tokenize.STRING
            and (previous is None or previous.type in STATEMENT_START)
            and tokens[index + 1].type == tokenize.NEWLINE
        )
        if not docstring:
            code.update(range(token.start[0], token.end[0] + 1))
        previous = token
    return len(comments), len(code)


def test_comments_stay_at_or_under_five_per_hundred_code_lines() -> None:
    """Comments say why, at the density of the codebases we learn from (3.4 to 5.4 per 100
    code lines in Starlette, PyJWT, WhiteNoise, simplejwt, uvicorn): narration creeps back
    one line at a time, so the package's density is kept here."""
    comments = code = 0
    for path in sorted((REPO_ROOT / "jwtcookie").rglob("*.py")):
        found = comment_and_code_lines(path.read_text())
        comments += found[0]
        code += found[1]
    assert comments * 100 <= 5 * code, f"{comments} comment lines for {code} code lines"


def test_the_comment_count_sees_comments_not_docstrings_or_pragmas() -> None:
    source = '''"""A docstring."""
x = 1  # a comment
y = "a string"  # type: ignore[misc]
# a whole-line comment
def f() -> None:
    """Another docstring."""
    return None  # noqa: RET501
'''
    assert comment_and_code_lines(source) == (2, 4)
