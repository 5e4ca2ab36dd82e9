"""Write docs/options.md's option tables from ``Settings``: its signature gives each option's
default, its docstring's ``Args:`` section the option's description.

    python scripts/options_table.py            # rewrite the tables
    python scripts/options_table.py --check    # exit 1 if the page is not what it would write

The page groups the options under its own hand-written headings and prose; each table stands
between two markers that name its options in order, and only what lies between them is
written here:

    <!-- options: secret keys algorithm -->
    ...
    <!-- /options -->

Every option is in exactly one table and has a description, or the script says which is not.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

from jwtcookie import Settings
from jwtcookie._tokens.rules import span
from jwtcookie.settings import default_cookie_name

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "options.md"
TABLE = re.compile(r"^<!-- options: ([a-z_ ]+) -->\n.*?^<!-- /options -->$", re.M | re.S)
HEADER = "| option | default | meaning, and why this default |\n| --- | --- | --- |\n"


def descriptions() -> dict[str, str]:
    """Each entry of ``Settings``' ``Args:`` section, its lines joined, as the page spells it:
    single backticks, and ``docs/page.md`` a link to that page."""
    docstring = inspect.getdoc(Settings) or ""
    _, found, section = docstring.partition("\nArgs:\n")
    if not found:
        raise SystemExit("Settings' docstring has no Args: section")
    entries: dict[str, list[str]] = {}
    for line in section.splitlines():
        if not line.startswith("    "):
            break
        entry = re.match(r"    ([a-z_]+): (.*)", line)
        if entry:
            entries[entry[1]] = [entry[2]]
        else:
            list(entries.values())[-1].append(line.strip())
    return {name: _markdown(" ".join(lines)) for name, lines in entries.items()}


def _markdown(text: str) -> str:
    text = text.replace("``", "`")
    text = re.sub(r"\bdocs/([a-z-]+\.md)\b", r"[\1](\1)", text)
    return text.replace("|", "\\|")


def default(name: str, parameter: inspect.Parameter) -> str:
    """The default column: the signature's default, or what it stands for."""
    value = parameter.default
    if name == "secret":
        return "required, unless `keys`"
    if name == "cookie_name":
        defaults = inspect.signature(Settings).parameters
        named = default_cookie_name(
            secure=defaults["secure"].default,
            path=defaults["path"].default,
            domain=defaults["domain"].default,
        )
        return f'`"{named}"` (see below)'
    if name == "max_age":
        return f"`{value}` ({span(value)})"
    if callable(value):
        return f"`{value.__module__}.{value.__name__}`"
    return "`" + repr(value).replace("'", '"') + "`"


def table(names: list[str]) -> str:
    parameters = inspect.signature(Settings).parameters
    described = descriptions()
    rows = [f"| `{n}` | {default(n, parameters[n])} | {described[n]} |\n" for n in names]
    return HEADER + "".join(rows)


def written(page: str) -> str:
    """``page`` with each table between markers written anew."""
    options = list(inspect.signature(Settings).parameters)
    described = descriptions()
    undescribed = [name for name in options if not described.get(name)]
    if undescribed:
        raise SystemExit(f"no description in Settings' docstring for {', '.join(undescribed)}")
    if unknown := sorted(set(described) - set(options)):
        raise SystemExit(f"Settings' docstring describes no option named {', '.join(unknown)}")
    tabled = [name for match in TABLE.finditer(page) for name in match[1].split()]
    if sorted(tabled) != sorted(options):
        missing = sorted(set(options) - set(tabled))
        twice = sorted({name for name in tabled if tabled.count(name) > 1})
        unknown = sorted(set(tabled) - set(options))
        raise SystemExit(
            f"each option goes in one table of {PAGE.name}: "
            f"missing {missing}, twice {twice}, unknown {unknown}"
        )
    return TABLE.sub(
        lambda match: f"<!-- options: {match[1]} -->\n{table(match[1].split())}<!-- /options -->",
        page,
    )


def main(argv: list[str]) -> int:
    page = PAGE.read_text()
    new = written(page)
    if argv == ["--check"]:
        if new != page:
            print(f"stale: {PAGE.name}; run python scripts/options_table.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
