"""Loaded before tests/conftest.py, which imports jwtcookie: coverage must start first."""

pytest_plugins = ["tests.coverage_floor"]
