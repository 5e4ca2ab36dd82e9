"""Every import path users and the docs use today keeps working, whatever moves behind it:
each public name imported from each public module, the dotted paths Django settings name,
and ``python -m jwtcookie``."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

PUBLIC_NAMES = {
    "jwtcookie": [
        "AnonymousUser",
        "Auth",
        "JWTCookieMiddleware",
        "Key",
        "Keyring",
        "Reason",
        "Settings",
        "TokenUser",
        "current_user",
        "get_auth",
        "secret_from_env",
    ],
    "jwtcookie.middleware": ["JWTCookieMiddleware"],
    "jwtcookie.settings": ["Settings", "RevocationStore", "default_cookie_name"],
    "jwtcookie.auth": ["Auth"],
    "jwtcookie.users": ["AnonymousUser", "Reason", "TokenUser"],
    "jwtcookie.access": ["current_user", "get_auth"],
    "jwtcookie.keys": ["Key", "Keyring", "secret_from_env"],
    "jwtcookie.jwks": ["RemoteKeyring"],
    "jwtcookie.redis": ["RedisRevocations"],
    "jwtcookie.revocations": ["Standing", "standing", "window_problem"],
    "jwtcookie.testing": ["ALICE", "csrf_value", "log_in", "log_out", "mint"],
    "jwtcookie.cli": ["main"],
    "jwtcookie.contrib.flask": ["JWTCookie", "get_auth", "login_required", "unauthorized"],
    "jwtcookie.contrib.starlette": ["login_required"],
    "jwtcookie.contrib.fastapi": [
        "Auth",
        "CurrentUser",
        "JWTCookie",
        "RequiredUser",
        "current_user",
        "get_auth",
        "jwt_cookie",
        "require_user",
    ],
    "jwtcookie.contrib.drf": ["JWTCookieAuthentication"],
    "jwtcookie.contrib.ninja": ["JWTCookieAuth", "cookie_name"],
    "jwtcookie.contrib.django": [
        "DjangoTokenUser",
        "JWTCookieMiddleware",
        "alogin",
        "alogout",
        "aupdate_session_auth_hash",
        "current_user",
        "force_login",
        "get_auth",
        "login",
        "login_required",
        "logout",
        "unauthorized",
        "update_session_auth_hash",
    ],
    "jwtcookie.contrib.django.apps": ["JWTCookieConfig"],
}

# What Django settings name by dotted path: INSTALLED_APPS, MIDDLEWARE, DRF's authentication.
DJANGO_DOTTED_PATHS = [
    "jwtcookie.contrib.django.JWTCookieMiddleware",
    "jwtcookie.contrib.drf.JWTCookieAuthentication",
    "jwtcookie.contrib.django.apps.JWTCookieConfig",
]


# A fresh interpreter, so no other test's imports or Django settings stand in for the paths.
IMPORT_EVERYTHING = """
import importlib, json, sys
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=[
        "django.contrib.auth", "django.contrib.contenttypes", "jwtcookie.contrib.django"
    ],
    JWTCOOKIE={"secret": "s" * 64},
)
django.setup()
from django.apps import apps
from django.utils.module_loading import import_string
wanted, dotted = json.loads(sys.argv[1])
missing = {}
for module, names in wanted.items():
    imported = importlib.import_module(module)
    missing[module] = [name for name in names if not hasattr(imported, name)]
print(json.dumps({
    "missing": missing,
    "dotted": [path for path in dotted if not callable(import_string(path))],
    "app": apps.is_installed("jwtcookie.contrib.django"),
    "all": sorted(importlib.import_module("jwtcookie").__all__),
}))
"""


@pytest.fixture(scope="module")
def imported() -> dict[str, Any]:
    argument = json.dumps([PUBLIC_NAMES, DJANGO_DOTTED_PATHS])
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING, argument],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


@pytest.mark.parametrize("module", sorted(PUBLIC_NAMES))
def test_every_public_name_imports_from_its_public_path(
    module: str, imported: dict[str, Any]
) -> None:
    assert imported["missing"][module] == [], f"{module} lost these names"


def test_the_package_exports_exactly_its_public_names(imported: dict[str, Any]) -> None:
    assert imported["all"] == PUBLIC_NAMES["jwtcookie"]


def test_django_settings_dotted_paths_still_import(imported: dict[str, Any]) -> None:
    assert imported["dotted"] == []
    assert imported["app"], "INSTALLED_APPS' jwtcookie.contrib.django is no longer an app"


def test_python_dash_m_jwtcookie_still_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jwtcookie", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "jwtcookie" in result.stdout
