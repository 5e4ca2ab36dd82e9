"""Each option is described once, in ``Settings``' docstring; docs/options.md's tables are
written from it (scripts/options_table.py), and every page that names an option matches the code."""

from __future__ import annotations

import importlib.util
import inspect
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from jwtcookie import JWTCookieMiddleware, Settings
from jwtcookie.settings import Options

ROOT = Path(__file__).resolve().parent.parent
TABLE_SCRIPT = ROOT / "scripts" / "options_table.py"
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


def options_table() -> ModuleType:
    spec = importlib.util.spec_from_file_location("options_table", TABLE_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_option_is_described_in_settings_docstring() -> None:
    described = options_table().descriptions()
    options = list(inspect.signature(Settings).parameters)
    assert list(described) == options, "Settings' Args: section follows its signature"
    assert all(len(text) > 20 for text in described.values()), described


def test_the_options_tables_are_what_settings_docstring_says() -> None:
    """docs/options.md is regenerated after a description or a default changes."""
    result = subprocess.run(
        [sys.executable, str(TABLE_SCRIPT), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_table_script_refuses_a_page_that_leaves_an_option_out() -> None:
    page = (ROOT / "docs" / "options.md").read_text()
    without_clock = page.replace("<!-- options: clock -->", "<!-- options: -->")
    with pytest.raises(SystemExit, match=r"missing \['clock'\]"):
        options_table().written(without_clock)


@pytest.mark.parametrize("page", ["README.md"])
def test_other_pages_name_only_real_options_with_their_real_defaults(page: str) -> None:
    defaults = code_defaults()
    rows = documented(page)
    options = {name: cell for name, cell in rows.items() if name in defaults}
    assert len(options) >= 5, "the README lists the common options"
    for name, cell in options.items():
        assert spelled(name, defaults[name]) in cell, (name, cell)


def test_the_middleware_takes_exactly_settings_options_each_written_once() -> None:
    """Settings' signature is where each option's name, type and default are written; the
    middleware's signature, as help() and editors show it, is read from there."""
    options = inspect.signature(Settings).parameters
    for shown in (
        inspect.signature(JWTCookieMiddleware),
        inspect.signature(JWTCookieMiddleware.__init__),
    ):
        names = [name for name in shown.parameters if name not in ("self", "app")]
        assert names == ["settings", "interface", *options]
        for name, parameter in options.items():
            assert shown.parameters[name].default == parameter.default, name
            assert shown.parameters[name].annotation == parameter.annotation, name
    middleware = (ROOT / "jwtcookie" / "middleware.py").read_text()
    again = [name for name in options if re.search(rf"\b{name}: [^=\n]+ = ", middleware)]
    assert not again, f"options declared again in middleware.py: {again}"


def test_the_options_a_type_checker_reads_are_settings_own() -> None:
    """``Options`` (the middleware's ``**options`` to mypy) names and types what ``Settings``
    takes, no more and no fewer."""
    settings = {name: p.annotation for name, p in inspect.signature(Settings).parameters.items()}
    typed = {name: getattr(t, "__forward_arg__", t) for name, t in Options.__annotations__.items()}
    assert typed == settings


def test_an_unknown_option_is_refused_naming_where_the_options_are() -> None:
    with pytest.raises(TypeError, match=r"no option named secrett; .*Settings"):
        JWTCookieMiddleware(lambda environ, start_response: [], secrett="x" * 64)


def test_where_things_live_names_every_module_and_folder_of_the_package() -> None:
    page = (ROOT / "docs" / "where-things-live.md").read_text()
    package = ROOT / "jwtcookie"
    for entry in sorted(package.iterdir()):
        if entry.name.startswith("__") or entry.suffix not in (".py", ""):
            continue
        if entry.is_dir():
            assert f"`jwtcookie/{entry.name}/`" in page, entry.name
            modules = [m for m in entry.glob("*.py") if not m.name.startswith("__")]
            for module in modules if entry.name != "contrib" else []:
                assert f"`{module.name}`" in page, f"{entry.name}/{module.name}"
        else:
            assert f"`{entry.name}`" in page, entry.name
