"""The scenario table (tests/scenarios.py) through the WSGI flavour and the ASGI flavour."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.harness import Client, Site
from tests.scenarios import OPTIONS, SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_the_core_scenario_holds(mode: str, scenario: Callable[[Client], None]) -> None:
    scenario(Site(mode, **OPTIONS))
