"""``settings.JWTCOOKIE``: the middleware's options, in Django's settings, read and checked.

The dict holds the keyword options of :class:`jwtcookie.Settings` (``secret``, ``secure``,
...) and one option of Django's own, ``user_model``. A hook may be a dotted path
(``"accounts.auth.is_revoked"``), imported once the apps are loaded, as Django imports
``AUTHENTICATION_BACKENDS``: ``settings.py`` cannot import code that uses models.

A mistake is a :class:`Problem` with a message and a hint: the system checks report it
(``manage.py check``, ``runserver``, ``test``, ``migrate``) and the middleware raises it as
``ImproperlyConfigured`` when Django builds it at start-up, so a server never starts with it.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from django.conf import settings as django_settings  # type: ignore[import-untyped, unused-ignore]
from django.utils.module_loading import import_string  # type: ignore[import-untyped, unused-ignore]

from jwtcookie.settings import HOOKS, Settings

SETTING = "JWTCOOKIE"
CORE_OPTIONS = tuple(inspect.signature(Settings).parameters)
DJANGO_OPTIONS = ("user_model",)  # request.user is the get_user_model() row the token names
EXAMPLE = 'JWTCOOKIE = {"secret": os.environ.get("JWT_SECRET")}'


class Problem(Exception):
    """A mistake in the configuration: a system check's id, message and hint."""

    def __init__(self, check_id: str, message: str, hint: str) -> None:
        super().__init__(f"{message} {hint}")
        self.check_id = f"jwtcookie.{check_id}"
        self.message = message
        self.hint = hint


class Configuration(NamedTuple):
    settings: Settings
    user_model: bool


def configuration() -> Configuration:
    """``settings.JWTCOOKIE`` as checked options, or a :class:`Problem` saying what to fix."""
    options = getattr(django_settings, SETTING, None)
    if options is None:
        raise Problem("E001", "settings.JWTCOOKIE is missing.", f"Add {EXAMPLE}.")
    if not isinstance(options, Mapping):
        raise Problem(
            "E002",
            f"settings.JWTCOOKIE is a dict of options, not a {type(options).__name__}.",
            f"Write it as {EXAMPLE}.",
        )
    known = CORE_OPTIONS + DJANGO_OPTIONS
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            raise Problem(
                "E003",
                f"settings.JWTCOOKIE has no option {name!r}.",
                f"Did you mean {close[0]!r}?" if close else f"The options are {', '.join(known)}.",
            )
    user_model = options.get("user_model", False)
    if not isinstance(user_model, bool):
        raise Problem(
            "E004",
            f"settings.JWTCOOKIE['user_model'] is True or False, not {user_model!r}.",
            "True makes request.user the row of get_user_model() the token names.",
        )
    core = {name: value for name, value in options.items() if name in CORE_OPTIONS}
    for hook in HOOKS:
        if isinstance(core.get(hook), str):
            core[hook] = _imported(hook, core[hook])
    try:
        checked = Settings(**core)
    except (TypeError, ValueError) as error:
        raise Problem(
            "E004",
            f"settings.JWTCOOKIE: {str(error).removeprefix('jwtcookie: ')}",
            "JWTCOOKIE holds the keyword options of jwtcookie.Settings (docs/options.md).",
        ) from None
    if user_model and checked.load_user is not None:
        raise Problem(
            "E006",
            "settings.JWTCOOKIE sets both user_model and load_user.",
            "Keep one: user_model looks the user up only when a view reads request.user; "
            "load_user runs on every request with a valid token.",
        )
    return Configuration(checked, user_model)


def _imported(name: str, path: str) -> Any:
    try:
        return import_string(path)
    except ImportError as error:
        raise Problem(
            "E005",
            f"settings.JWTCOOKIE[{name!r}] = {path!r} cannot be imported ({error}).",
            f"Give the dotted path of a function, such as 'accounts.auth.{name}'.",
        ) from None


def middleware_position(middleware: Iterable[str], cls: type) -> int | None:
    """Where ``cls`` (or a subclass) is in a ``MIDDLEWARE`` list; an entry that does not
    import is Django's to report."""
    for index, path in enumerate(middleware):
        try:
            candidate = import_string(path)
        except ImportError:
            continue
        if isinstance(candidate, type) and issubclass(candidate, cls):
            return index
    return None
