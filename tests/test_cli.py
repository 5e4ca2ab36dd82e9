"""``python -m jwtcookie``: secret, inspect, mint and jwks, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from tests.harness import DAY, SECRET, key_pair, make_token

OTHER_SECRET = "another-secret-" + "z" * 50


def jwtcookie(
    *args: str, stdin: str = "", secret: str | None = SECRET
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "JWT_SECRET"}
    if secret is not None:
        env["JWT_SECRET"] = secret
    return subprocess.run(
        [sys.executable, "-m", "jwtcookie", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_secret_prints_a_secret_the_middleware_accepts() -> None:
    first, second = jwtcookie("secret").stdout.strip(), jwtcookie("secret").stdout.strip()
    assert len(first) == 128
    assert first != second
    assert set(first) <= set("0123456789abcdef"), "hex"
    assert jwtcookie("mint", '{"_id": "1"}', secret=first).returncode == 0


def test_inspect_accepts_a_good_token_and_says_when_it_is_renewed() -> None:
    result = jwtcookie("inspect", make_token(issued=time.time() - 4 * DAY))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert shown["claims"]["_id"] == "1"
    assert shown["header"]["alg"] == "HS256"
    assert "accepted: expires in 3 days" in result.stdout
    assert "renewed now" in result.stdout


@pytest.mark.parametrize(
    ("token", "said"),
    [
        (make_token(issued=time.time() - 8 * DAY), "refused (expired): expired"),
        (make_token(key=OTHER_SECRET), "refused (invalid): bad signature"),
        (make_token(life=30 * DAY), "refused (invalid): it lives 30 days"),
        ("garbage", "refused (invalid): it is not a compact JWT"),
    ],
)
def test_inspect_says_exactly_why_a_token_is_refused(token: str, said: str) -> None:
    result = jwtcookie("inspect", token)
    assert result.returncode == 1
    assert said in result.stdout


def test_inspect_reads_the_token_from_stdin_and_takes_the_middlewares_options() -> None:
    token = make_token()
    assert jwtcookie("inspect", "-", stdin=token + "\n").returncode == 0
    result = jwtcookie("inspect", "-", "--audience", "billing", stdin=token)
    assert "does not name the configured audience 'billing'" in result.stdout


def test_mint_makes_a_token_of_the_given_age_for_the_given_claims() -> None:
    result = jwtcookie("mint", '{"_id": "42", "username": "alice"}', "--age", "4d")
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["username"] == "alice"
    assert abs(claims["iat"] - (time.time() - 4 * DAY)) < 60
    assert claims["exp"] - claims["iat"] == 7 * DAY


def test_jwks_prints_only_the_public_half(tmp_path: Path) -> None:
    private, _ = key_pair("ES256")
    pem = tmp_path / "key.pem"
    pem.write_bytes(private)
    result = jwtcookie(
        "jwks", "--private-key-file", str(pem), "--algorithm", "ES256", "--kid", "k1"
    )
    (key,) = json.loads(result.stdout)["keys"]
    assert key["kid"] == "k1"
    assert key["alg"] == "ES256"
    assert "d" not in key


@pytest.mark.parametrize(
    ("args", "secret", "said"),
    [
        (("inspect", "x"), None, "JWT_SECRET is not set"),
        (("inspect", "x"), "short", "is 5 bytes; HS256 needs at least 32"),
        (("mint", "[1]"), SECRET, "the claims are a JSON object"),
        (("mint", '{"sub": 5}'), SECRET, "sub must be a string"),
    ],
)
def test_mistakes_get_a_sentence_and_exit_status_2(
    args: tuple[str, ...], secret: str | None, said: str
) -> None:
    result = jwtcookie(*args, secret=secret)
    assert result.returncode == 2
    assert said in result.stderr
    assert "Traceback" not in result.stderr


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "jwtcookie"
    result = subprocess.run(
        [str(script), "secret"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0
    assert len(result.stdout.strip()) == 128


@pytest.mark.parametrize("command", [[], ["secret"], ["inspect"], ["mint"], ["jwks"]])
def test_help_is_plain_text_without_markup(command: list[str]) -> None:
    result = jwtcookie(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: jwtcookie" in result.stdout
    for markup in ("``", ":mod:", ":class:", ":func:"):
        assert markup not in result.stdout, result.stdout


def test_help_says_where_the_key_comes_from() -> None:
    help_text = " ".join(jwtcookie("--help").stdout.split())
    assert "python -m jwtcookie" in help_text
    assert "from the environment (JWT_SECRET, or --secret-env NAME)" in help_text
