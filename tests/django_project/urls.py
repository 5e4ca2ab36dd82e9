"""The test project's routes (``ROOT_URLCONF``)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import PasswordChangeView
from django.urls import path

from tests.django_project import api, views

urlpatterns = [
    path("", views.home, name="home"),
    path("me", views.me),
    path("async-me", views.async_me),
    path("mixin", views.MixinView.as_view()),
    path("guido", views.only_guido),
    path("permission", views.with_permission),
    path("login-claims", views.login_claims),
    path("login", views.login_password),
    path("async-login", views.async_login_password),
    path("logout", views.logout_view),
    path("async-logout", views.async_logout_view),
    path("change", views.change),
    path("password", views.change_password),
    path("async-password", views.async_change_password),
    path("someones-password", views.change_someones_password),
    path("django-password", PasswordChangeView.as_view(success_url="/me")),
    path("stream", views.stream),
    path("cacheable", views.cacheable),
    path("own-cookie", views.sets_own_cookie),
    path("reason", views.auth_reason),
    path("token-only", views.token_only),
    path("async-token-only", views.async_token_only),
    path("form", views.csrf_form),
    path("api/me", api.drf_me),
    path("api/open", api.drf_open),
    path("ninja/", api.ninja_api.urls),
    path("admin/", admin.site.urls),
]
