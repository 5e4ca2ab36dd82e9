"""Every code block of docs/scaling-out.md runs, as it is written.

Python blocks are executed. Where a block names a host of the reader's (``login.example``,
``sentinel-1``, ``node-1``), the test swaps in its own server, and checks that the text it
swaps is in the block, so the page and this file cannot drift apart. Each block is then used
as its section says (log in, log out, refuse a copy...). Shell lines are each mirrored by
something real. A block under a heading this file does not know fails the first test.
"""

from __future__ import annotations

import ast
import inspect
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from jwtcookie import get_auth
from jwtcookie.jwks import RemoteKeyring
from tests import redis_server as redis_helpers
from tests.harness import SECRET
from tests.redis_server import redis_cluster, redis_sentinel, redis_server, wait_until
from tests.servers import REPO_ROOT
from tests.test_jwks import Issuer, SigningKey

if redis_helpers.REQUIRED:
    import redis  # CI installed the extra: missing is a failure there
else:
    redis = pytest.importorskip("redis", reason="pip install 'jwtcookie[redis]' for these tests")
from jwtcookie.redis import RedisRevocations  # needs redis-py

PAGE = REPO_ROOT / "docs" / "scaling-out.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


def blocks() -> list[tuple[str, str, str]]:
    """(language, the heading it sits under, its code) for every fenced block, in order."""
    text = PAGE.read_text()
    found = []
    for match in FENCE.finditer(text):
        headings = re.findall(r"^#+ (.+)$", text[: match.start()], re.M)
        found.append((match.group(1), headings[-1], match.group(2)))
    return found


def python_blocks(heading: str) -> list[str]:
    return [code for language, under, code in blocks() if language == "python" and under == heading]


def run(code: str, swaps: dict[str, str] | None = None) -> dict[str, Any]:
    """Execute a block, with ``swaps`` made first (each must be in it); its namespace."""
    for old, new in (swaps or {}).items():
        assert old in code, f"the page no longer has {old!r}: update this test with it"
        code = code.replace(old, new)
    namespace: dict[str, Any] = {"__name__": "scaling_out_snippet"}
    exec(compile(code, str(PAGE), "exec"), namespace)  # noqa: S102  # our own docs' code
    return namespace


# Each heading with python blocks, and the test that runs them.
RUN_BY = {
    "WSGI (Flask)": "test_the_flask_block_wires_the_store_and_logout_revokes_everywhere",
    "ASGI (Starlette, FastAPI)": (
        "test_the_starlette_block_revokes_on_logout_and_starts_in_lifespan"
    ),
    "The alternative: the store's two plain hooks": (
        "test_the_plain_hooks_block_refuses_what_it_revokes"
    ),
    "API": "test_the_api_blocks_show_every_default",
    "Keys from a JWKS URL": "test_the_jwks_block_verifies_the_issuers_tokens",
    "Sentinel": "test_the_sentinel_block_follows_redis_through_sentinel",
    "Cluster": "test_the_cluster_block_follows_redis_through_a_cluster",
}
# Each shell line, and what makes it true.
SHELL = {
    "pip install 'jwtcookie[redis]'": lambda: "redis = [" in pyproject(),
    "python -m demos.scale_out": lambda: '"demos.scale_out"' in source_of("test_scale_out.py"),
}


def pyproject() -> str:
    return (REPO_ROOT / "pyproject.toml").read_text()


def source_of(name: str) -> str:
    return (Path(__file__).parent / name).read_text()


def test_every_block_of_the_page_is_run_or_mirrored() -> None:
    for language, heading, code in blocks():
        if language == "python":
            assert heading in RUN_BY, f"no test runs the python block under {heading!r}"
            assert f"def {RUN_BY[heading]}(" in source_of("test_scale_out_docs.py")
        else:
            assert language == "sh", (language, heading)
            for line in code.splitlines():
                command = line.split("  #")[0].strip()
                assert command in SHELL, f"nothing mirrors {command!r} (under {heading!r})"
                assert SHELL[command](), command


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    redis_helpers.require_redis_server()
    with redis_server(tmp_path_factory.mktemp("docs-redis")) as server:
        yield server.url


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    """What the blocks read: REDIS_URL, and JWT_SECRET for secret_from_env()."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("JWT_SECRET", SECRET)


@pytest.fixture
def closing() -> Iterator[Callable[[Any], Any]]:
    """Close what a block made (stores, keyrings) after the test."""
    made: list[Any] = []
    yield made.append
    for thing in made:
        thing.close()


def add_test_routes(app: Any) -> None:
    """``/login`` logs ann in, ``/whoami`` says who is logged in: what the block's app would
    have beside its logout routes."""
    from flask import request

    def login() -> str:
        get_auth(request).login({"_id": "ann"})
        return ""

    def whoami() -> dict[str, Any]:
        auth = get_auth(request)
        return {"user": auth.user.identity, "reason": auth.reason.value, "sid": auth.session_id}

    app.add_url_rule("/login", "login", login, methods=["POST"])
    app.add_url_rule("/whoami", "whoami", whoami)


class Browser:
    """A Flask test client sending only the cookie a test gives it (no jar)."""

    def __init__(self, app: Any) -> None:
        self.client = app.test_client(use_cookies=False)
        self.name = app.wsgi_app.cookie_name

    def login(self) -> str:
        reply = self.client.post("/login", base_url="https://localhost")
        cookie = reply.headers["Set-Cookie"]
        return cookie.split(";")[0].split("=", 1)[1]

    def send(self, path: str, token: str, method: str = "GET") -> Any:
        headers = {"Cookie": f"{self.name}={token}"}
        return self.client.open(path, method=method, headers=headers, base_url="https://localhost")

    def who(self, token: str) -> dict[str, Any]:
        return self.send("/whoami", token).get_json()  # type: ignore[no-any-return]


def next_second(token: str) -> None:
    """Let the second a token was issued in pass ("log out everywhere" counts whole seconds)."""
    issued = jwt.decode(token, options={"verify_signature": False})["iat"]
    deadline = time.monotonic() + 5
    while int(time.time()) <= issued:
        assert time.monotonic() < deadline
        time.sleep(0.01)  # waiting for the wall clock, which the stores read


# -- the blocks --------------------------------------------------------------------------------


def test_the_flask_block_wires_the_store_and_logout_revokes_everywhere(
    environment: None, closing: Any, redis_url: str
) -> None:
    (code,) = python_blocks("WSGI (Flask)")
    namespace = run(code)
    app, store = namespace["app"], namespace["store"]
    closing(store)
    elsewhere = RedisRevocations(redis_url)  # another process's store
    closing(elsewhere)
    add_test_routes(app)
    browser = Browser(app)

    token = browser.login()
    sid = browser.who(token)["sid"]
    assert browser.who(token)["user"] == "ann"
    assert browser.send("/logout", token, "POST").status_code == 204
    assert browser.who(token) == {"user": "", "reason": "revoked", "sid": None}
    assert elsewhere.start()
    assert elsewhere.is_revoked({"sid": sid}), "revoked in Redis, for every process"

    phone, laptop = browser.login(), browser.login()
    next_second(laptop)
    assert browser.send("/logout-everywhere", phone, "POST").status_code == 204
    assert browser.who(laptop)["reason"] == "revoked"
    assert browser.who(phone)["reason"] == "revoked"
    assert browser.send("/logout-everywhere", "", "POST").status_code == 401
    assert browser.who(browser.login())["user"] == "ann", "logging in again works at once"


def test_the_starlette_block_revokes_on_logout_and_starts_in_lifespan(
    environment: None, closing: Any
) -> None:
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route
    from starlette.testclient import TestClient

    (code,) = python_blocks("ASGI (Starlette, FastAPI)")
    namespace = run(code)
    app, store, settings = namespace["app"], namespace["store"], namespace["settings"]
    closing(store)

    async def login(request: Request) -> Response:
        get_auth(request).login({"_id": "ann"})
        return Response()

    async def whoami(request: Request) -> Response:
        auth = get_auth(request)
        return JSONResponse({"user": auth.user.identity, "reason": auth.reason.value})

    app.router.routes += [Route("/login", login, methods=["POST"]), Route("/whoami", whoami)]
    name = settings.cookie_name
    with TestClient(app, base_url="https://testserver") as client:
        assert store.synced, "the lifespan loaded the revocations first"
        token = client.post("/login").cookies[name]
        client.cookies.clear()
        cookie = {"Cookie": f"{name}={token}"}
        assert client.get("/whoami", headers=cookie).json() == {"user": "ann", "reason": "ok"}
        assert client.post("/logout", headers=cookie).status_code == 204
        assert client.get("/whoami", headers=cookie).json() == {"user": "", "reason": "revoked"}


def test_the_plain_hooks_block_refuses_what_it_revokes(environment: None, closing: Any) -> None:
    (code,) = python_blocks("The alternative: the store's two plain hooks")
    namespace = run(code)
    app, store = namespace["app"], namespace["store"]
    closing(store)
    add_test_routes(app)
    browser = Browser(app)
    token, other = browser.login(), browser.login()
    assert browser.send("/logout", token, "POST").status_code == 204
    assert browser.who(token)["reason"] == "revoked"
    assert browser.who(other)["user"] == "ann"


def test_the_api_blocks_show_every_default(closing: Any) -> None:
    """Each API block calls the constructor with every option at its default but the URL."""
    blocks_by_class = {RedisRevocations: python_blocks("API"), RemoteKeyring: []}
    (jwks_api,) = [
        code for code in python_blocks("Keys from a JWKS URL") if "refresh_every" in code
    ]
    blocks_by_class[RemoteKeyring] = [jwks_api]
    for cls, codes in blocks_by_class.items():
        (code,) = codes
        namespace = run(code)  # builds it (neither connects before it is used)
        made = namespace["store" if cls is RedisRevocations else "keys"]
        assert type(made) is cls
        closing(made)
        (call,) = [
            node
            for node in ast.walk(ast.parse(code))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == cls.__name__
        ]
        shown = {keyword.arg: value_of(keyword.value, namespace) for keyword in call.keywords}
        defaults = {
            name: parameter.default
            for name, parameter in inspect.signature(cls).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        }
        assert shown == defaults, cls.__name__


def value_of(node: ast.expr, namespace: dict[str, Any]) -> Any:
    """An argument's value as the block wrote it (``7 * 24 * 3600``, ``time.time``)."""
    return eval(compile(ast.Expression(node), str(PAGE), "eval"), namespace)  # noqa: S307


def test_the_jwks_block_verifies_the_issuers_tokens(
    environment: None, closing: Any, redis_url: str
) -> None:
    issuer = Issuer()
    try:
        key = SigningKey("2025-06")
        issuer.publish(key)
        (code,) = [code for code in python_blocks("Keys from a JWKS URL") if "app" in code]
        namespace = run(code, {"https://login.example/.well-known/jwks.json": issuer.url})
        keys, app = namespace["keys"], namespace["app"]
        closing(keys)
        add_test_routes(app)
        browser = Browser(app)
        assert browser.who(key.token())["user"] == "1", "fetched the key, verified the token"
        assert browser.who(SigningKey("forged").token())["reason"] == "unavailable"
    finally:
        issuer.stop()


@pytest.mark.e2e
def test_the_sentinel_block_follows_redis_through_sentinel(tmp_path: Path, closing: Any) -> None:
    redis_helpers.require_redis_server()
    (code,) = python_blocks("Sentinel")
    with redis_sentinel(tmp_path) as (_master, _replica, sentinel):
        hosts = '[("sentinel-1", 26379), ("sentinel-2", 26379), ("sentinel-3", 26379)]'
        swaps = {hosts: f'[("127.0.0.1", {sentinel.port})]'}
        stores = [run(code, swaps)["store"] for _ in range(2)]
        for store in stores:
            closing(store)
        follows(*stores)


@pytest.mark.e2e
def test_the_cluster_block_follows_redis_through_a_cluster(tmp_path: Path, closing: Any) -> None:
    redis_helpers.require_redis_server()
    (code,) = python_blocks("Cluster")
    with redis_cluster(tmp_path) as nodes:
        swaps = {'host="node-1", port=6379': f'host="127.0.0.1", port={nodes[0].port}'}
        stores = [run(code, swaps)["store"] for _ in range(2)]
        for store in stores:
            closing(store)
        follows(*stores)


def follows(revoking: RedisRevocations, following: RedisRevocations) -> None:
    """Two stores made by the block load; what one revokes reaches the other through Redis
    (the revoking one refuses it locally at once: it proves nothing)."""
    assert revoking.start()
    assert following.start()
    assert revoking.revoke_session("docs-block") is True
    wait_until(lambda: following.is_revoked({"sid": "docs-block"}), "the other store")
