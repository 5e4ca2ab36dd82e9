"""Views written as a Django user writes them: Django's own decorators, mixins and templates."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required, permission_required, user_passes_test
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.views import View
from django.views.decorators.http import require_POST

from jwtcookie.contrib.django import (
    alogin,
    alogout,
    aupdate_session_auth_hash,
    get_auth,
    login,
    logout,
    update_session_auth_hash,
)
from jwtcookie.contrib.django import login_required as token_required


def describe(user: Any) -> dict[str, Any]:
    return {
        "authenticated": user.is_authenticated,
        "anonymous": user.is_anonymous,
        "username": user.get_username(),
        "pk": None if user.pk is None else str(user.pk),
        "class": user.__class__.__name__,  # through SimpleLazyObject
        "staff": user.is_staff,
    }


def me(request: HttpRequest) -> JsonResponse:
    return JsonResponse(describe(request.user))


async def async_me(request: HttpRequest) -> JsonResponse:
    return JsonResponse(describe(await request.auser()))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


class MixinView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(f"mixin {request.user.get_username()}")


@user_passes_test(lambda user: user.get_username() == "guido")
def only_guido(request: HttpRequest) -> HttpResponse:
    return HttpResponse("guido only")


@permission_required("auth.view_user")
def with_permission(request: HttpRequest) -> HttpResponse:
    return HttpResponse("permitted")


@require_POST
def login_claims(request: HttpRequest) -> JsonResponse:
    """Log in as the claims posted (no password: for the tests that have no database)."""
    token = login(request, {"sub": request.POST["sub"], "username": request.POST["username"]})
    return JsonResponse({**describe(request.user), "token": token})


@require_POST
def login_password(request: HttpRequest) -> HttpResponse:
    """The documented login view: Django checks the password, jwtcookie sets the cookie."""
    user = authenticate(
        request, username=request.POST.get("username"), password=request.POST.get("password")
    )
    if user is None:
        return JsonResponse({"error": "wrong username or password"}, status=401)
    login(request, user)
    return JsonResponse(describe(request.user))


async def async_login_password(request: HttpRequest) -> HttpResponse:
    # No @require_POST: Django 4.2's decorators take no async view.
    user = await sync_to_async(authenticate)(  # aauthenticate is Django 5.0's
        request, username=request.POST.get("username"), password=request.POST.get("password")
    )
    if user is None:
        return JsonResponse({"error": "wrong username or password"}, status=401)
    await alogin(request, user)
    return JsonResponse(describe(await request.auser()))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return JsonResponse(describe(request.user))


async def async_logout_view(request: HttpRequest) -> HttpResponse:
    await alogout(request)
    return HttpResponse(status=204)


@require_POST
@login_required
def change_password(request: HttpRequest) -> HttpResponse:
    """The user sets a new password; ``keep`` says whether to keep this login."""
    request.user.set_password(request.POST["password"])
    request.user.save()
    if request.POST.get("keep"):
        update_session_auth_hash(request, request.user)
    return HttpResponse("changed")


async def async_change_password(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    user.set_password(request.POST["password"])
    await user.asave()
    await aupdate_session_auth_hash(request, user)
    return HttpResponse("changed")


@require_POST
@login_required
def change_someones_password(request: HttpRequest) -> HttpResponse:
    """An administrator sets another user's password and calls what a form's view calls."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=request.POST["username"])
    user.set_password(request.POST["password"])
    user.save()
    update_session_auth_hash(request, user)
    return HttpResponse("changed")


@require_POST
def change(request: HttpRequest) -> HttpResponse:
    """A state-changing view with nothing special: Django's CSRF check applies."""
    return HttpResponse(f"changed by {request.user.get_username() or 'nobody'}")


def stream(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse(iter([b"one ", b"two"]))


def cacheable(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("same for everyone")
    response["Cache-Control"] = "public, max-age=60"
    response["CDN-Cache-Control"] = "public, max-age=600"  # what a CDN obeys (RFC 9213)
    response["Surrogate-Control"] = "max-age=600"
    return response


def sets_own_cookie(request: HttpRequest) -> HttpResponse:
    """A view that writes our cookie itself: the middleware leaves it as it is."""
    response = HttpResponse("own")
    response.set_cookie("access_token", "from-the-view", max_age=5)
    return response


def auth_reason(request: HttpRequest) -> JsonResponse:
    auth = get_auth(request)
    return JsonResponse({"reason": auth.reason.value, "claims": dict(auth.claims)})


@token_required
def token_only(request: HttpRequest) -> HttpResponse:
    """jwtcookie's own decorator: 401 JSON, never a redirect; it reads no request.user."""
    return HttpResponse("token ok")


@token_required
async def async_token_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("token ok")


def csrf_form(request: HttpRequest) -> HttpResponse:
    """A page with a form: Django sets its csrftoken cookie."""
    return HttpResponse(get_token(request))
