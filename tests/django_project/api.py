"""DRF and Ninja endpoints, as their users write them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from jwtcookie.contrib.ninja import JWTCookieAuth


@api_view(["GET", "POST"])
@permission_classes([IsAuthenticated])
def drf_me(request: Request) -> Response:
    return Response(
        {
            "username": request.user.get_username(),
            "class": type(request.user).__name__,
            "scopes": list(request.auth.scopes),
            "method": request.method,
        }
    )


@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def drf_open(request: Request) -> Response:
    return Response({"authenticated": request.user.is_authenticated, "auth": repr(request.auth)})


ninja_api = NinjaAPI(auth=JWTCookieAuth(), urls_namespace="jwtcookie-tests")


@ninja_api.get("/me")
def ninja_me(request: HttpRequest) -> dict[str, Any]:
    return {"username": request.auth.get_username(), "class": type(request.auth).__name__}


@ninja_api.post("/me")
def ninja_change(request: HttpRequest) -> dict[str, Any]:
    return {"changed_by": request.auth.get_username()}


@ninja_api.get("/async-me")
async def ninja_async_me(request: HttpRequest) -> dict[str, Any]:
    return {"username": request.auth.get_username(), "class": type(request.auth).__name__}
