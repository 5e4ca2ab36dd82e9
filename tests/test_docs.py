"""The options are described in one place, docs/options.md, and it matches the code."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from jwtcookie import JWTCookieMiddleware, Settings

ROOT = Path(__file__).resolve().parent.parent
# Defaults the docs spell in words, because the code's default is computed or absent.
SPELLED = {"secret": "required", "cookie_name": "__Host-access_token"}


def documented(page: str) -> dict[str, str]:
    """Every ``| `option` | default |`` row of a page's tables (a row may name several)."""
    text = (ROOT / page).read_text()
    rows: dict[str, str] = {}
    for match in re.finditer(r"^\| ((?:`[a-z_]+`(?:, )?)+) \| ([^|]+) \|", text, re.M):
        for name in re.findall(r"`([a-z_]+)`", match.group(1)):
            assert name not in rows, f"{page} describes {name} twice"
            rows[name] = match.group(2).strip()
    return rows


def code_defaults() -> dict[str, object]:
    parameters = dict(inspect.signature(Settings).parameters)
    middleware = inspect.signature(JWTCookieMiddleware.__init__).parameters
    parameters.update({name: middleware[name] for name in ("settings", "interface")})
    return {name: parameter.default for name, parameter in parameters.items()}


def spelled(name: str, default: object) -> str:
    if name in SPELLED:
        return SPELLED[name]
    if callable(default):
        return f"{default.__module__}.{default.__name__}"
    return repr(default).replace("'", '"')


def test_docs_options_lists_every_option_once_with_its_default() -> None:
    rows = documented("docs/options.md")
    defaults = code_defaults()
    assert set(defaults) <= set(rows), f"undocumented: {sorted(set(defaults) - set(rows))}"
    for name, default in defaults.items():
        assert spelled(name, default) in rows[name], (name, rows[name])


@pytest.mark.parametrize("page", ["README.md"])
def test_other_pages_name_only_real_options_with_their_real_defaults(page: str) -> None:
    defaults = code_defaults()
    rows = documented(page)
    options = {name: cell for name, cell in rows.items() if name in defaults}
    assert len(options) >= 5, "the README lists the common options"
    for name, cell in options.items():
        assert spelled(name, defaults[name]) in cell, (name, cell)
