"""The docs' pictures are generated (scripts/pictures.py) and the checked-in ones are current."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "pictures.py"
PICTURES = ("request-path.svg", "renewal.svg", "benchmark.svg", "scale-out.svg")


def test_the_checked_in_pictures_are_what_the_script_draws_today() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        cwd=ROOT,
        capture_output=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_each_picture_is_well_formed_svg_with_a_title() -> None:
    for name in PICTURES:
        root = ET.parse(ROOT / "docs" / "pictures" / name).getroot()  # noqa: S314 (ours)
        assert root.tag == "{http://www.w3.org/2000/svg}svg", name
        title = root.find("{http://www.w3.org/2000/svg}title")
        assert title is not None, name
        assert title.text, name


def test_the_renewal_picture_shows_several_renewals_and_the_cap() -> None:
    svg = (ROOT / "docs" / "pictures" / "renewal.svg").read_text(encoding="utf-8")
    assert svg.count(">renewal on day ") >= 3
    assert "at the cap, never renewed" in svg
    assert "session cap: login + " in svg


def test_the_benchmark_picture_carries_the_date_and_machine_of_its_data() -> None:
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    svg = (ROOT / "docs" / "pictures" / "benchmark.svg").read_text(encoding="utf-8")
    date = next(line for line in results.splitlines() if line.startswith("- date: "))
    assert date.removeprefix("- date: ") in svg
    assert "Flask-JWT-Extended" in svg
    assert "AuthenticationMiddleware" in svg


def load_script(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("pictures", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "pictures", module)  # its dataclasses look it up
    spec.loader.exec_module(module)
    return module


def test_the_request_path_names_the_function_that_decides_each_step_in_the_codes_order() -> None:
    svg = (ROOT / "docs" / "pictures" / "request-path.svg").read_text(encoding="utf-8")
    named = [
        "_request/token_reader.py: TokenReader.read",
        "_tokens/verifying.py: TokenVerifier.verify",
        "_request/origin.py: OriginGuard.allows",
        "_request/policy.py: Policy._protects",
        "_request/responses.py: ResponseWriter.respond",
    ]
    assert all(name in svg for name in named), [name for name in named if name not in svg]
    assert [svg.index(name) for name in named] == sorted(svg.index(name) for name in named)
    assert "preflight (OPTIONS with an Origin)" in svg


def test_the_request_path_refuses_a_decider_that_no_longer_exists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pictures = load_script(monkeypatch)
    gone = "jwtcookie._request.policy:Policy._no_such_method"
    monkeypatch.setitem(pictures.DECIDERS, "protected", gone)
    with pytest.raises(SystemExit, match=r"_no_such_method no longer exists; point DECIDERS"):
        pictures.request_path()


def test_the_request_path_refuses_steps_in_another_order_than_the_code_calls_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pictures = load_script(monkeypatch)
    steps = list(pictures.STEPS)
    cross_site = next(step for step in steps if step.deciders[0] == "cross_site")
    steps.remove(cross_site)
    steps.insert(1, cross_site)  # before finding the token, as the first picture had it
    monkeypatch.setattr(pictures, "STEPS", tuple(steps))
    with pytest.raises(SystemExit, match=r"calls \S+ before \S+OriginGuard.allows; STEPS has"):
        pictures.request_path()
