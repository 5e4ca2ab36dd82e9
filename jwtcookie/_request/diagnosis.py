"""What the middleware logs about a refusal: one INFO line with its precise cause, never a
token, a secret or a claim's value."""

from __future__ import annotations

import logging

from jwtcookie._request.cookies import MAX_DUPLICATE_COOKIES
from jwtcookie._request.origin import normalise_origin
from jwtcookie._request.view import RequestView
from jwtcookie._tokens.rules import Diagnosis
from jwtcookie._tokens.verifying import TokenVerifier
from jwtcookie.users import Reason

LOGGER = logging.getLogger("jwtcookie")


def log_refused_token(
    verifier: TokenVerifier,
    *,
    cookie_name: str,
    token: str | None,
    from_cookie: bool,
    reason: Reason,
    cause: str,
) -> None:
    """Where the token came from, the reason, and the cause: ``cause`` when a hook gave one,
    else what the verifier diagnoses."""
    source = "cookie" if from_cookie else "Authorization header"
    cause = cause or _cause(verifier, cookie_name, token, reason)
    LOGGER.info("jwtcookie: refused the %s token (%s): %s", source, reason, cause)


def _cause(verifier: TokenVerifier, cookie_name: str, token: str | None, reason: Reason) -> str:
    if token is None:
        return (
            f"the request sent several {cookie_name} cookies that cannot be told "
            "apart (valid ones for different users, or more than "
            f"{MAX_DUPLICATE_COOKIES}): is a sibling subdomain planting cookies?"
        )
    diagnosed = verifier.diagnose(token)
    if isinstance(diagnosed, Diagnosis):
        if reason is Reason.UNAVAILABLE:
            kept = "the issuer's keys did not name it either (the cookie is kept)"
            return f"{diagnosed.detail}; {kept}"
        return diagnosed.detail
    if reason is Reason.UNAVAILABLE:
        return "the revocation store cannot answer (the cookie is kept)"
    if reason is Reason.REVOKED:
        return "the revocation store has its session or its user revoked"
    # Valid, yet refused here: a login cookie double_submit cannot bind.
    return "it carries no csrf claim, which double_submit=True needs: log in again"


def log_cross_site(request: RequestView) -> None:
    """Why a cross-site request was refused, and the ``trusted_origins`` line that would let
    a front end of one's own through."""
    if request.fetch_site is not None:
        why = f"Sec-Fetch-Site is {request.fetch_site!r}"
    elif request.origin is None or request.origin == "null":
        why = f"Origin is {request.origin!r}"
    else:
        why = f"Origin {request.origin!r} is not this host {request.host!r}"
    hint = ""
    if request.origin and normalise_origin(request.origin) is not None:
        hint = (
            "; if that page is your own front end, list its origin: "
            f"trusted_origins=[{request.origin.strip()!r}]"
        )
    method = "WebSocket handshake" if request.websocket else request.method
    LOGGER.info(
        "jwtcookie: refused a cross-site %s to %r (403): %s%s", method, request.path, why, hint
    )
