"""The app config: ``"jwtcookie.contrib.django"`` in ``INSTALLED_APPS`` registers the system
checks and makes Django's own logout (the admin's, ``LogoutView``) delete the JWT cookie too."""

from __future__ import annotations

from django.apps import AppConfig  # type: ignore[import-untyped, unused-ignore]


class JWTCookieConfig(AppConfig):  # type: ignore[misc]  # Django ships no type hints
    name = "jwtcookie.contrib.django"
    label = "jwtcookie"
    verbose_name = "jwtcookie"

    def ready(self) -> None:
        from django.contrib.auth.signals import (  # type: ignore[import-untyped, unused-ignore]
            user_logged_out,
        )
        from django.core import checks  # type: ignore[import-untyped, unused-ignore]

        from jwtcookie.contrib.django.checks import check_configuration, check_deployment
        from jwtcookie.contrib.django.logins import end_token_login

        checks.register(check_configuration)
        checks.register(check_deployment, checks.Tags.security, deploy=True)
        user_logged_out.connect(end_token_login, dispatch_uid="jwtcookie.end_token_login")
