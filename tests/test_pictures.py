"""The docs' pictures are generated (scripts/pictures.py) and the checked-in ones are current."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "pictures.py"
PICTURES = ("request-path.svg", "renewal.svg", "benchmark.svg", "scale-out.svg")


def test_the_checked_in_pictures_are_what_the_script_draws_today() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
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
    svg = (ROOT / "docs" / "pictures" / "renewal.svg").read_text()
    assert svg.count(">renewal on day ") >= 3
    assert "at the cap, never renewed" in svg
    assert "session cap: login + " in svg


def test_the_benchmark_picture_carries_the_date_and_machine_of_its_data() -> None:
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    svg = (ROOT / "docs" / "pictures" / "benchmark.svg").read_text()
    date = next(line for line in results.splitlines() if line.startswith("- date: "))
    assert date.removeprefix("- date: ") in svg
    assert "Flask-JWT-Extended" in svg
    assert "AuthenticationMiddleware" in svg
