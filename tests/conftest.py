"""Shared fixtures: a secret, a movable clock, and the core apps driven in both modes."""

from __future__ import annotations

import pytest

from tests.core_apps import SECRET, Clock


@pytest.fixture
def secret() -> str:
    return SECRET


@pytest.fixture
def clock() -> Clock:
    return Clock()
