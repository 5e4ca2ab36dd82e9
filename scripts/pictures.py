"""Draw the docs' pictures (docs/pictures/*.svg) from the code and from measured data.

    python scripts/pictures.py            # write them
    python scripts/pictures.py --check    # exit 1 if any file differs from what it would write

Each picture is plain SVG written here, with no plotting library, and is the same bytes on
every run: tests/test_pictures.py regenerates them and fails when a checked-in one is stale.

- request-path.svg: where each decision about a request is taken: each step names the
  function that decides it (``DECIDERS``), the options and the ``Reason`` members. Probe
  requests through the real middleware, profiled, must call those functions in the order
  the steps are drawn and end as the picture says; the options and reasons are checked
  against ``Settings`` and ``Reason``. A function renamed or gone, steps the code now takes
  in another order, a renamed option or a new reason stop the script with a sentence
  saying what to change, instead of the picture going stale.
- renewal.svg: one session driven through the real middleware with an injected clock:
  the tokens it issued, the renewals, the session cap, and each token's renewal window as
  the middleware answers it (the first second a visit with it gets a new one).
- benchmark.svg: the added time against the peers and the served ratios, read from
  benchmarks/RESULTS.md with its date and machine.
- scale-out.svg: the services of demos/scale_out, read from its README's table.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from types import CodeType, FrameType
from typing import Any
from wsgiref.util import setup_testing_defaults

import jwt

from jwtcookie import JWTCookieMiddleware, Reason, Settings, TokenUser, get_auth

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "pictures"
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'
INK, MUTED, ACCENT, REFUSED, LIGHT = "#1f2937", "#6b7280", "#2563eb", "#b91c1c", "#dbeafe"
CHAR_WIDTH = 0.6  # of the font size: a conservative width of one character, for wrapping
DAY = 86400
Line = tuple[str, float, str, bool]  # text, size, colour, bold


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def wrap(text: str, width: float, size: float) -> list[str]:
    """Greedy word wrap to ``width`` pixels at ``size``."""
    limit = max(8, int(width / (size * CHAR_WIDTH)))
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


class Svg:
    def __init__(self, width: int, height: int, title: str) -> None:
        self.width, self.height, self.parts = width, height, [f"<title>{escape(title)}</title>"]
        self.parts.append(
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
            'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{MUTED}"/></marker></defs>'
        )
        self.rect(0, 0, width, height, fill="#ffffff", stroke="none")

    def rect(
        self, x: float, y: float, w: float, h: float, *, fill: str, stroke: str = INK, rx: int = 6
    ) -> None:
        self.parts.append(
            f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="{rx}" '
            f'fill="{fill}" stroke="{stroke}"/>'
        )

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        color: str = MUTED,
        arrow: bool = False,
        dash: str = "",
        width: float = 1.5,
    ) -> None:
        extra = ' marker-end="url(#arrow)"' if arrow else ""
        extra += f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" '
            f'stroke="{color}" stroke-width="{width:g}"{extra}/>'
        )

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = 13,
        color: str = INK,
        anchor: str = "start",
        bold: bool = False,
    ) -> None:
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(
            f'<text x="{x:g}" y="{y:g}" {FONT} font-size="{size:g}" fill="{color}" '
            f'text-anchor="{anchor}"{weight}>{escape(text)}</text>'
        )

    def box(
        self,
        x: float,
        y: float,
        w: float,
        lines: Iterable[Line],
        *,
        fill: str,
        stroke: str = INK,
        pad: float = 8,
    ) -> float:
        """A box around wrapped lines of (text, size, color, bold); returns its height."""
        rows = [
            (row, size, color, bold)
            for text, size, color, bold in lines
            for row in wrap(text, w - 2 * pad, size)
        ]
        height = pad * 2 + sum(size * 1.3 for _, size, _, _ in rows)
        self.rect(x, y, w, height, fill=fill, stroke=stroke)
        baseline = y + pad
        for row, size, color, bold in rows:
            baseline += size * 1.3
            self.text(x + pad, baseline - size * 0.3, row, size=size, color=color, bold=bold)
        return height

    def render(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}">'
        )
        return "\n".join([head, *self.parts, "</svg>", ""])


# ---------------------------------------------------------------- the path of a request

# The functions that decide the steps, as "module:Qualified.name". The picture names each
# one (its real file and qualified name), and the probe requests below must call them in the
# order of STEPS. After a rename in jwtcookie, change its one line here.
DECIDERS = {
    "wsgi": "jwtcookie.middleware:WSGIMiddleware.__call__",
    "asgi": "jwtcookie.middleware:ASGIMiddleware.__call__",
    "read": "jwtcookie._request.token_reader:TokenReader.read",
    "check": "jwtcookie._request.token_reader:TokenReader.check",
    "verify": "jwtcookie._tokens.codec:TokenCodec.verify",
    "admit": "jwtcookie._request.policy:Policy.admit",
    "cross_site": "jwtcookie._request.origin:OriginGuard.allows",
    "hooks": "jwtcookie._request.policy:Policy._hook_round",
    "renew": "jwtcookie._tokens.codec:TokenCodec.should_renew",
    "double_submit": "jwtcookie._request.double_submit:DoubleSubmit.refusal",
    "protected": "jwtcookie._request.policy:Policy._protects",
    "app": "jwtcookie.access:get_auth",
    "respond": "jwtcookie._request.responses:ResponseWriter.respond",
    "reissue": "jwtcookie._tokens.codec:TokenCodec.renew",
}


@dataclass(frozen=True)
class Step:
    question: str
    deciders: tuple[str, ...]  # keys of DECIDERS; the first one's first call places the step
    options: tuple[str, ...]  # Settings keywords that decide it
    exit: str  # what happens when the request leaves the path here ("" when it does not)
    reasons: tuple[str, ...] = ()  # the Reason members this step can give


STEPS = (
    Step(
        "A request arrives: an ASGI http or websocket scope, or a WSGI call; any other "
        "scope (lifespan) goes straight to the app",
        ("wsgi", "asgi"),
        (),
        "",
    ),
    Step(
        "Find the token: Authorization: Bearer when enabled (it wins), else the login cookie; "
        "of duplicate cookies the first valid one, two users cancel out",
        ("read",),
        ("bearer", "cookie_name"),
        "no token: it goes on, anonymous",
        ("missing",),
    ),
    Step(
        "Verify it: the key pins the algorithm; signature, exp, iat, iss, aud, its kind, the "
        "session cap; with double_submit a cookie's token must carry its csrf claim; then the "
        "revocations= store",
        ("check", "verify"),
        (
            "secret",
            "keys",
            "algorithm",
            "leeway",
            "issuer",
            "audience",
            "token_type",
            "max_age",
            "max_session_age",
            "revocations",
        ),
        "it goes on, anonymous; the response deletes the cookie, unless the store cannot "
        "answer now (unavailable: kept)",
        ("expired", "invalid", "revoked", "unavailable"),
    ),
    Step(
        "Due for renewal? Once renew_after of its life has passed, unless it ends at the "
        "session cap or the store has not kept up; the response renews it unless a step "
        "below refuses the request",
        ("renew",),
        ("renew_after", "max_session_age"),
        "",
    ),
    Step(
        "An unsafe request (not GET, HEAD, OPTIONS, TRACE; any WebSocket) from another site "
        "that our cookie logs in? With cross_site_protection='strict': any",
        ("cross_site", "admit"),
        ("cross_site_protection", "trusted_origins"),
        "403: the app never sees it",
    ),
    Step(
        "Your hooks, when given: the key of an unknown kid is fetched (keys= a JWKS URL); "
        "then is_revoked, user_not_before, load_user; on_error hears of a refusal",
        ("hooks",),
        ("is_revoked", "user_not_before", "load_user", "on_error"),
        "it goes on, anonymous; cookie deleted (a key that cannot be fetched: unavailable, kept)",
        ("revoked", "rejected", "unavailable"),
    ),
    Step(
        "An unsafe request carrying the login cookie: does its X-CSRF-Token header echo "
        "the token's csrf value?",
        ("double_submit",),
        ("double_submit",),
        "403: the app never sees it",
    ),
    Step(
        "Nobody logged in, on a path under protected_paths? A CORS preflight (OPTIONS with "
        "an Origin) is not: the app's CORS policy answers it",
        ("protected",),
        ("protected_paths",),
        "401 (deleting a refused cookie)",
    ),
    Step(
        'The app runs with the user: scope["user"], environ["jwtcookie.user"], get_auth(request)',
        ("app",),
        (),
        "",
        ("ok",),
    ),
    Step(
        "The response starts: our Set-Cookie is appended, never replacing the app's: the "
        "login, a renewal, or the deletion of a refused cookie; then Cache-Control: private",
        ("respond", "reissue"),
        ("max_age", "secure", "samesite", "domain", "path", "partitioned"),
        "",
    ),
)


@dataclass(frozen=True)
class Probe:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    status: int  # what the picture says it ends with
    logged_in: bool = False  # sends the login cookies (and the csrf header)


# Requests through the real middleware that together reach every step; on each one the
# steps' deciders must be called in the order of STEPS.
PROBES = (
    Probe(
        "a logged-in POST from the page itself, due for renewal",
        "POST",
        "/account",
        {"HTTP_SEC_FETCH_SITE": "same-origin"},
        204,
        logged_in=True,
    ),
    Probe(
        "a cross-site POST carrying the login cookie",
        "POST",
        "/account",
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://evil.example"},
        403,
        logged_in=True,
    ),
    Probe("an anonymous GET of a protected path", "GET", "/account", {}, 401),
    Probe(
        "a CORS preflight to a protected path",
        "OPTIONS",
        "/account",
        {"HTTP_ORIGIN": "https://app.example", "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"},
        204,
    ),
)


def decider(key: str) -> Any:
    """The function ``DECIDERS[key]`` names; the script stops when it no longer exists."""
    module_name, _, qualname = DECIDERS[key].partition(":")
    found: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
        if found is None:
            sys.exit(
                f"pictures: request-path: {DECIDERS[key]} no longer exists; point "
                f"DECIDERS[{key!r}] in scripts/pictures.py at the function that decides it now"
            )
    return inspect.unwrap(found)


def where(key: str) -> str:
    """``_request/policy.py: Policy._protects``: the file and name of the function itself."""
    function = decider(key)
    source = Path(inspect.getsourcefile(function) or "?").resolve()
    return f"{source.relative_to(ROOT / 'jwtcookie').as_posix()}: {function.__qualname__}"


def check_steps() -> None:
    options = set(inspect.signature(Settings).parameters)
    named = {option for step in STEPS for option in step.options}
    if unknown := sorted(named - options):
        sys.exit(f"pictures: request-path names options Settings does not have: {unknown}")
    reasons = {reason for step in STEPS for reason in step.reasons}
    actual = {str(reason.value) for reason in Reason}
    if reasons != actual:
        sys.exit(f"pictures: request-path shows reasons {sorted(reasons)}; Reason has {actual}")
    places = {decider(step.deciders[0]).__code__: index for index, step in enumerate(STEPS)}
    for key in sorted({key for step in STEPS for key in step.deciders}):
        decider(key)
    reached: set[int] = set()
    for probe in PROBES:
        status, order = probe_request(probe, places)
        if status != probe.status:
            sys.exit(
                f"pictures: request-path: {probe.name!r} answered {status}, the picture says "
                f"{probe.status}"
            )
        for before, after in itertools.pairwise(order):
            if after < before:
                sys.exit(
                    f"pictures: request-path: on {probe.name!r} the code calls "
                    f"{DECIDERS[STEPS[before].deciders[0]]} before "
                    f"{DECIDERS[STEPS[after].deciders[0]]}; STEPS has them the other way "
                    "round: reorder STEPS in scripts/pictures.py and check what they say"
                )
        reached.update(order)
    if missed := [
        DECIDERS[STEPS[index].deciders[0]] for index in range(len(STEPS)) if index not in reached
    ]:
        sys.exit(f"pictures: request-path: no probe request calls {missed}; see PROBES")


def probe_request(probe: Probe, places: dict[CodeType, int]) -> tuple[int, list[int]]:
    """The status the real middleware answers ``probe`` with, and the steps whose deciders
    it called, in the order of their first calls."""
    now = [1_700_000_000.0]
    middleware = session_middleware(
        now,
        double_submit=True,
        protected_paths=("/account",),
        is_revoked=lambda claims: False,
        load_user=TokenUser,
    )
    environ: dict[str, Any] = {"REQUEST_METHOD": probe.method, "PATH_INFO": probe.path}
    environ.update(probe.headers)
    if probe.logged_in:
        login: dict[str, Any] = {"PATH_INFO": "/login"}
        setup_testing_defaults(login)
        cookies = SimpleCookie()
        for name, value in response_headers(middleware, login)[1]:
            if name.lower() == "set-cookie":
                cookies.load(value)
        environ["HTTP_COOKIE"] = "; ".join(f"{k}={m.value}" for k, m in cookies.items())
        environ["HTTP_X_CSRF_TOKEN"] = next(m.value for k, m in cookies.items() if "csrf" in k)
        now[0] += 4 * DAY  # over half of the default 7 days: due for renewal
    setup_testing_defaults(environ)
    order: list[int] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        place = places.get(frame.f_code) if event == "call" else None
        if place is not None and place not in order:
            order.append(place)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        status, _ = response_headers(middleware, environ)
    finally:
        sys.setprofile(previous)
    return status, order


def request_path() -> str:
    check_steps()
    width, left, column, gap = 900, 20, 520, 24
    exit_x = left + column + 40
    exit_width = width - exit_x - 20
    probe = Svg(width, 10, "")
    rows = []
    for step in STEPS:
        height = probe.box(left, 0, column, step_lines(step), fill="#fff")
        if step.exit:
            height = max(
                height, probe.box(exit_x, 0, exit_width, exit_lines(step), fill="#fff", pad=6)
            )
        rows.append(height)
    total = 76 + sum(rows) + gap * len(rows)
    svg = Svg(width, int(total), "The path of one request through JWTCookieMiddleware")
    svg.text(left, 30, "The path of one request through JWTCookieMiddleware", size=18, bold=True)
    svg.text(
        left,
        52,
        "blue: the functions that decide each step (in jwtcookie/), in the order the code "
        "calls them; grey: the options; red: the other outcome",
        size=12,
        color=MUTED,
    )
    y = 76.0
    for index, (row, step) in enumerate(zip(rows, STEPS, strict=True)):
        final = index == len(STEPS) - 1
        app_side = final or step.reasons == ("ok",)
        height = svg.box(
            left, y, column, step_lines(step), fill=LIGHT if app_side else "#f9fafb", stroke=ACCENT
        )
        if step.exit:
            svg.line(left + column, y + 16, exit_x - 2, y + 16, color=REFUSED, arrow=True)
            svg.box(exit_x, y, exit_width, exit_lines(step), fill="#fef2f2", stroke=REFUSED, pad=6)
        if not final:
            svg.line(left + 60, y + height, left + 60, y + row + gap - 2, arrow=True)
            if step.exit[:1].isdigit():  # a refusal: the request goes on when the answer is no
                svg.text(left + 68, y + height + 15, "no", size=11, color=MUTED)
        y += row + gap
    return svg.render()


def exit_lines(step: Step) -> list[Line]:
    lines: list[Line] = [(step.exit, 12, REFUSED, False)]
    if step.reasons:
        lines.append((f"reason: {', '.join(step.reasons)}", 11, MUTED, False))
    return lines


def step_lines(step: Step) -> list[Line]:
    lines: list[Line] = [(step.question, 13, INK, False)]
    lines += [(where(key), 11, ACCENT, False) for key in step.deciders]
    if step.options:
        lines.append((", ".join(step.options), 11, MUTED, False))
    return lines


# ---------------------------------------------------------------- the renewal timeline

SESSION = {"max_age": 7 * DAY, "renew_after": 0.5, "max_session_age": 16 * DAY}
VISITS = (0, 1, 2.5, 4, 5.5, 8.5, 10, 12.5, 14, 15.5, 16.5)  # days; the first logs in


@dataclass(frozen=True)
class Issued:
    day: float  # when the response carrying it was sent
    iat: float
    exp: float
    renews_from: float | None  # the first day a visit with it gets a new one; None: never


def session_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Logs in at /login; anywhere else only asks who the user is."""
    auth = get_auth(environ)
    if environ["PATH_INFO"] == "/login":
        auth.login({"_id": "42"})
    start_response("204 No Content", [])
    return []


def session_middleware(now: list[float], **options: Any) -> Any:
    return JWTCookieMiddleware(
        session_app, secret="p" * 64, secure=False, clock=lambda: now[0], **options
    )


def drive_session() -> tuple[list[Issued], list[tuple[float, str]]]:
    """Visit at each day of VISITS through the real middleware; what was issued, and when
    the user was known (``ok``) or not."""
    now = [0.0]
    middleware = session_middleware(now, **SESSION)
    cookie, issued, outcomes = "", [], []
    for day in VISITS:
        now[0] = day * DAY
        environ: dict[str, Any] = {"PATH_INFO": "/login" if day == 0 else "/"}
        if cookie:
            environ["HTTP_COOKIE"] = cookie
        token = login_cookie_set(middleware, environ)
        outcomes.append((day, str(get_auth(environ).reason)))
        if token == "":
            cookie = ""
        elif token is not None:
            claims = jwt.decode(token, options={"verify_signature": False})
            start = renewal_starts(token, claims["iat"], claims["exp"])
            issued.append(
                Issued(
                    day,
                    claims["iat"] / DAY,
                    claims["exp"] / DAY,
                    None if start is None else start / DAY,
                )
            )
            cookie = f"{middleware.cookie_name}={token}"
    return issued, outcomes


def renewal_starts(token: str, iat: int, exp: int) -> int | None:
    """The first second at which a visit with ``token`` gets a new one, asked of the real
    middleware (by bisection: the window runs to the token's end), or None when no visit
    before it expires does."""
    now = [0.0]
    middleware = session_middleware(now, **SESSION)

    def renews(second: int) -> bool:
        now[0] = second
        cookie = {"PATH_INFO": "/", "HTTP_COOKIE": f"{middleware.cookie_name}={token}"}
        return bool(login_cookie_set(middleware, cookie))

    early, late = iat, exp - 1
    if not renews(late):
        return None
    if renews(early):
        return early
    for _ in range(64):  # halves a span of whole seconds: done in about 20
        if late - early <= 1:
            break
        middle = (early + late) // 2
        if renews(middle):
            late = middle
        else:
            early = middle
    return late


def login_cookie_set(middleware: Any, environ: dict[str, Any]) -> str | None:
    """The login token the response to ``environ`` sets; "" when it deletes the cookie."""
    setup_testing_defaults(environ)
    for name, value in response_headers(middleware, environ)[1]:
        parsed = SimpleCookie(value) if name.lower() == "set-cookie" else {}
        morsel = parsed.get(middleware.cookie_name)
        if morsel is not None:
            return morsel.value
    return None


def response_headers(app: Any, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]]]:
    """The status and headers ``app`` answers ``environ`` with."""
    started: list[tuple[str, list[tuple[str, str]]]] = []
    app(environ, lambda status, sent, exc_info=None: started.append((status, sent)))
    status, headers = started[-1]
    return int(status.split()[0]), headers


def renewal() -> str:
    issued, outcomes = drive_session()
    cap = SESSION["max_session_age"] / DAY
    span_days = 20
    width, left, right = 900, 110, 30
    scale = (width - left - right) / span_days
    row, top = 46, 78
    height = top + row * len(issued) + 120

    def x(day: float) -> float:
        return left + day * scale

    svg = Svg(width, height, "Sliding renewal with an absolute session cap")
    svg.text(20, 30, "Sliding renewal with an absolute session cap", size=18, bold=True)
    svg.text(
        20,
        52,
        f"max_age = {SESSION['max_age'] // DAY} days, renew_after = {SESSION['renew_after']}, "
        f"max_session_age = {cap:g} days; one session through the real middleware",
        size=12,
        color=MUTED,
    )
    axis = top + row * len(issued) + 20
    svg.line(x(0), axis, x(span_days), axis, color=INK, width=1)
    for day in range(span_days + 1):
        svg.line(x(day), axis, x(day), axis + 5, color=INK, width=1)
        svg.text(x(day), axis + 19, str(day), size=11, color=MUTED, anchor="middle")
    svg.text(x(span_days), axis + 36, "days since login", size=11, color=MUTED, anchor="end")
    svg.line(x(cap), top - 10, x(cap), axis, color=REFUSED, dash="5,4", width=2)
    svg.text(x(cap) + 5, top - 14, f"session cap: login + {cap:g} days", size=12, color=REFUSED)
    for index, token in enumerate(issued):
        y = top + row * index
        label = "login" if index == 0 else "renewal"
        svg.text(left - 10, y + 19, f"token {chr(65 + index)}", size=13, anchor="end", bold=True)
        svg.rect(
            x(token.iat),
            y + 6,
            (token.exp - token.iat) * scale,
            18,
            fill=LIGHT,
            stroke=ACCENT,
            rx=3,
        )
        window = token.renews_from
        if window is not None:
            svg.rect(
                x(window),
                y + 6,
                (token.exp - window) * scale,
                18,
                fill="#93c5fd",
                stroke=ACCENT,
                rx=3,
            )
        note = f"{label} on day {token.day:g}, expires day {token.exp:g}"
        if window is None:
            note += ": at the cap, never renewed" if token.exp >= cap else ": never renewed"
        # On a white ground that breaks the cap's line where a note crosses it.
        note_width, anchor, note_x = text_width(note, 11), "start", x(token.exp) + 8
        ground = note_x
        if note_x + note_width >= width - 10:
            anchor, note_x = "end", x(token.iat) - 8
            ground = note_x - note_width
        svg.rect(ground - 2, y + 8, note_width + 4, 15, fill="#ffffff", stroke="none", rx=0)
        svg.text(note_x, y + 19, note, size=11, color=MUTED, anchor=anchor)
        if index:
            svg.line(x(token.day), y - row + 24, x(token.day), y + 4, color=ACCENT, arrow=True)
    for visit, reason in outcomes:
        known = reason == "ok"
        svg.parts.append(
            f'<circle cx="{x(visit):g}" cy="{axis:g}" r="5" '
            f'fill="{ACCENT if known else REFUSED}" stroke="#fff"/>'
        )
    legend, lx = axis + 58, 20.0
    for swatch, label in (
        (LIGHT, "token life"),
        ("#93c5fd", "renewal window: a visit here gets a new token"),
        (ACCENT, "visit, logged in"),
        (REFUSED, "visit, anonymous"),
    ):
        if swatch in (LIGHT, "#93c5fd"):
            svg.rect(lx, legend - 11, 22, 12, fill=swatch, stroke=ACCENT, rx=3)
        else:
            svg.parts.append(
                f'<circle cx="{lx + 11:g}" cy="{legend - 5:g}" r="5" fill="{swatch}"/>'
            )
        svg.text(lx + 28, legend, label, size=12)
        lx += 28 + text_width(label, 12) + 16
    return svg.render()


# ---------------------------------------------------------------- the benchmark

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PEERS = (  # (group, row of the in-process table, label): the added time of each
    (
        "Starlette",
        "Starlette + jwtcookie, valid token, repeat (cache hit)",
        "jwtcookie, repeat token",
    ),
    (
        "Starlette",
        "Starlette + jwtcookie, valid token, first sight (cache miss)",
        "jwtcookie, first sight",
    ),
    ("Starlette", "Starlette + lean cookie/jwt.decode wrapper", "hand-written cookie + jwt.decode"),
    (
        "Starlette",
        "Starlette + AuthenticationMiddleware (JWT backend)",
        "AuthenticationMiddleware + JWT backend",
    ),
    ("Flask", "Flask + jwtcookie, valid token, repeat (cache hit)", "jwtcookie, repeat token"),
    ("Flask", "Flask + jwtcookie, valid token, first sight (cache miss)", "jwtcookie, first sight"),
    ("Flask", "Flask + lean cookie/jwt.decode wrapper", "hand-written cookie + jwt.decode"),
    ("Flask", "Flask + Flask-JWT-Extended, @jwt_required()", "Flask-JWT-Extended"),
)
SERVED = (
    ("uvicorn + Starlette + jwtcookie, repeat token", "uvicorn + Starlette, repeat token"),
    ("uvicorn + Starlette + jwtcookie, fresh tokens", "uvicorn + Starlette, fresh tokens"),
    ("waitress + Flask + jwtcookie, repeat token", "waitress + Flask, repeat token"),
    ("waitress + Flask + jwtcookie, fresh tokens", "waitress + Flask, fresh tokens"),
)


def table_rows(text: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows.setdefault(cells[0], cells[1:])
    return rows


def benchmark() -> str:
    text = RESULTS.read_text(encoding="utf-8")
    date = re.search(r"^- date: (.+)$", text, re.M)
    machine = re.search(r"^- machine: (.+)$", text, re.M)
    python = re.search(r"^- Python: (.+)$", text, re.M)
    if not (date and machine and python):
        sys.exit(f"pictures: {RESULTS} has no date, machine or Python line")
    rows = table_rows(text)
    missing = [row for _, row, _ in PEERS if row not in rows]
    missing += [row for row, _ in SERVED if row not in rows]
    if missing:
        sys.exit(f"pictures: {RESULTS} has no row {missing}")
    added = [(group, label, float(rows[row][1])) for group, row, label in PEERS]
    served = [(label, float(rows[row][1])) for row, label in SERVED]

    width, left, bar_left = 900, 20, 330
    bar_width = width - bar_left - 90
    biggest = max(value for _, _, value in added)
    height = 110 + 28 * len(added) + 2 * 34 + 60 + 28 * len(served) + 50
    svg = Svg(width, height, "jwtcookie against its peers")
    svg.text(left, 30, "What login costs per request, added to the bare app", size=18, bold=True)
    svg.text(
        left, 52, f"{date.group(1)}; {machine.group(1)}; {python.group(1)}", size=12, color=MUTED
    )
    svg.text(
        left,
        70,
        "benchmarks/RESULTS.md: median of interleaved in-process rounds; less is better",
        size=12,
        color=MUTED,
    )
    y = 96.0
    group = ""
    for name, label, value in added:
        if name != group:
            group = name
            y += 10
            svg.text(left, y + 12, name, size=14, bold=True)
            y += 24
        ours = label.startswith("jwtcookie")
        svg.text(bar_left - 10, y + 13, label, size=12, anchor="end")
        length = max(1.0, value / biggest * bar_width)
        svg.rect(bar_left, y, length, 18, fill=ACCENT if ours else "#9ca3af", stroke="none", rx=2)
        svg.text(bar_left + length + 6, y + 13, f"{value:g} µs", size=12)
        y += 28
    y += 26
    svg.text(
        left,
        y,
        "Served: server CPU per request, ratio to the same server without jwtcookie",
        size=14,
        bold=True,
    )
    y += 16
    top = max(value for _, value in served)
    for label, value in served:
        length = (value - 1) / (top - 1) * bar_width * 0.6 if top > 1 else 1
        svg.text(bar_left - 10, y + 13, label, size=12, anchor="end")
        svg.rect(bar_left, y, max(1.0, length), 18, fill=ACCENT, stroke="none", rx=2)
        svg.text(bar_left + max(1.0, length) + 6, y + 13, f"{value:.3f}x", size=12)
        y += 28
    svg.text(
        left,
        y + 16,
        "python -m benchmarks.run --all --write benchmarks/RESULTS.md "
        "measures again; python scripts/pictures.py redraws this.",
        size=11,
        color=MUTED,
    )
    return svg.render()


# ---------------------------------------------------------------- the scale-out deployment

SCALE_OUT = ROOT / "demos" / "scale_out" / "README.md"


def scale_out() -> str:
    text = SCALE_OUT.read_text(encoding="utf-8")
    services = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].isdigit():
            services[cells[0].split(" (")[0]] = cells
    jwks = re.search(r"`GET (/\S*jwks[^`\s]*)`", text)
    needed = ("issuer", "WSGI verifier", "ASGI verifier", "Redis")
    if not jwks or any(name not in services for name in needed):
        sys.exit(f"pictures: {SCALE_OUT}'s table names {sorted(services)}; want {needed}")

    probe = Svg(900, 10, "")
    boxes = {"issuer": 20.0, "WSGI verifier": 320.0, "ASGI verifier": 620.0}
    top, box_width = 190.0, 260.0
    heights = {
        name: probe.box(bx, top, box_width, service_lines(services[name]), fill="#fff")
        for name, bx in boxes.items()
    }
    bottom = top + max(heights.values())
    redis_y = bottom + 80
    redis_height = probe.box(300, redis_y, 300, service_lines(services["Redis"]), fill="#fff")
    svg = Svg(900, int(redis_y + redis_height + 20), "One login, several services")
    svg.text(20, 30, "One login, several services (demos/scale_out)", size=18, bold=True)
    svg.text(
        20,
        52,
        "every service runs JWTCookieMiddleware; only the issuer holds a private key",
        size=12,
        color=MUTED,
    )
    svg.box(
        330,
        70,
        240,
        [
            ("Browser", 14, INK, True),
            ("one HttpOnly cookie, sent to every service", 11, MUTED, False),
        ],
        fill="#f9fafb",
    )
    for name, bx in boxes.items():
        svg.box(bx, top, box_width, service_lines(services[name]), fill=LIGHT, stroke=ACCENT)
        svg.line(450, 122, bx + box_width / 2, top - 2, arrow=True)
        svg.line(
            bx + box_width / 2 + 20,
            top + heights[name],
            450 + (bx - 300) * 0.4,
            redis_y - 2,
            color=REFUSED,
            arrow=True,
        )
    svg.text(120, 150, "log in: Set-Cookie", size=11, color=MUTED)
    svg.text(690, 150, "the same cookie", size=11, color=MUTED)
    lane = bottom + 22
    for name in ("WSGI verifier", "ASGI verifier"):
        centre = boxes[name] + box_width / 2 - 20
        svg.line(centre, top + heights[name], centre, lane, color=ACCENT, dash="6,4")
    svg.line(boxes["ASGI verifier"] + box_width / 2 - 20, lane, 130, lane, color=ACCENT, dash="6,4")
    svg.line(130, lane, 130, top + heights["issuer"] + 2, color=ACCENT, dash="6,4", arrow=True)
    svg.text(140, lane + 16, f"public keys: GET {jwks.group(1)}", size=11, color=ACCENT)
    svg.text(610, redis_y + 30, "revocations: published once,", size=11, color=REFUSED)
    svg.text(610, redis_y + 45, "copied into every worker's memory", size=11, color=REFUSED)
    svg.box(300, redis_y, 300, service_lines(services["Redis"]), fill="#fef2f2", stroke=REFUSED)
    return svg.render()


def service_lines(cells: list[str]) -> list[Line]:
    name, port, runs_on, holds = (cell.replace("`", "") for cell in cells)
    return [
        (f"{name.split(' (')[0]}  :{port}", 14, INK, True),
        (runs_on, 11, MUTED, False),
        (holds, 11, INK, False),
    ]


PICTURES: dict[str, Callable[[], str]] = {
    "request-path.svg": request_path,
    "renewal.svg": renewal,
    "benchmark.svg": benchmark,
    "scale-out.svg": scale_out,
}


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    stale = []
    for name, draw in PICTURES.items():
        path, drawn = OUT / name, draw()
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != drawn:
                stale.append(name)
        else:
            OUT.mkdir(parents=True, exist_ok=True)
            path.write_text(drawn, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}; run python scripts/pictures.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
