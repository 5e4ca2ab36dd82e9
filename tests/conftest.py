"""The fixtures every test file shares: the flavour a test runs in, and a movable clock."""

from __future__ import annotations

import pytest

from tests.harness import MODES, Clock


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Each test that takes `mode` runs once through WSGI and once through ASGI."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def clock() -> Clock:
    return Clock()
