"""Bridged stacks: an ASGI app served over WSGI (a2wsgi) and a WSGI app over ASGI (asgiref).

The middleware goes next to the app it protects, inside the bridge: it then speaks that
app's own interface, and the bridge only carries the headers it adds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import flask
import httpx
from a2wsgi import ASGIMiddleware
from asgiref.wsgi import WsgiToAsgi
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from werkzeug.test import Client

from jwtcookie import JWTCookieMiddleware
from jwtcookie.contrib.flask import current_user
from tests.harness import DAY, SECRET, make_token

OLD = make_token(issued=time.time() - 4 * DAY)  # due for renewal


async def me(request: Request) -> JSONResponse:
    return JSONResponse({"name": request.user.display_name})


async def change(request: Request) -> JSONResponse:
    return JSONResponse({"changed": True})


def test_asgi_app_served_over_wsgi_through_a2wsgi_sees_the_user_and_renews() -> None:
    starlette_app = Starlette(routes=[Route("/me", me), Route("/change", change, methods=["POST"])])
    wsgi_app: Any = ASGIMiddleware(JWTCookieMiddleware(starlette_app, secret=SECRET, secure=False))
    client = Client(wsgi_app, use_cookies=False)

    response = client.get("/me", headers={"Cookie": f"access_token={OLD}"})

    assert response.json == {"name": "alice"}
    (set_cookie,) = response.headers.getlist("Set-Cookie")
    assert set_cookie.startswith("access_token=ey")
    cross_site = client.post(
        "/change", headers={"Origin": "https://evil.example", "Cookie": f"access_token={OLD}"}
    )
    assert cross_site.status_code == 403
    same_site = client.post("/change", headers={"Origin": "http://localhost"})
    assert same_site.json == {"changed": True}


def test_wsgi_app_served_over_asgi_through_asgiref_sees_the_user_and_renews() -> None:
    flask_app = flask.Flask(__name__)

    @flask_app.get("/me")
    def flask_me() -> Any:
        return {"name": current_user.display_name}

    asgi_app = WsgiToAsgi(JWTCookieMiddleware(flask_app, secret=SECRET, secure=False))

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=asgi_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.get("/me", headers={"cookie": f"access_token={OLD}"})

    response = asyncio.run(fetch())

    assert response.json() == {"name": "alice"}
    (set_cookie,) = response.headers.get_list("set-cookie")
    assert set_cookie.startswith("access_token=ey")
