"""tox plugin: let a plain ``tox`` find every pyenv-installed Python, not only the active one.

pyenv's shims run only the versions ``pyenv global``/``local`` name, so with one active
version ``python3.10`` on PATH is a shim that fails and tox would skip py310. This appends
each ``$PYENV_ROOT/versions/3.*/bin`` to the end of PATH, after the shims, so the active
version still wins and the others are found where the shims fail. Without pyenv it does
nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tox.plugin import impl

if TYPE_CHECKING:
    from tox.config.sets import ConfigSet
    from tox.session.state import State


def pyenv_bin_dirs() -> list[str]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    return sorted(str(path) for path in root.glob("versions/3.*/bin") if path.is_dir())


@impl
def tox_add_core_config(core_conf: ConfigSet, state: State) -> None:
    path = os.environ.get("PATH", "").split(os.pathsep)
    missing = [directory for directory in pyenv_bin_dirs() if directory not in path]
    if missing:
        os.environ["PATH"] = os.pathsep.join([*path, *missing])
