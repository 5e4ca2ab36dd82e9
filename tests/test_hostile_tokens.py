"""Hostile tokens never get in and never crash anything, through WSGI and ASGI alike.

Each attack is sent as the ``access_token`` cookie. The promise: the handler still runs
(200), anonymously, and the response deletes the bad cookie; never a 5xx, never an
exception escaping to the server. The Hypothesis properties at the end throw arbitrary
token strings at both paths.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jwtcookie import Key, Keyring
from tests.harness import (
    ALICE,
    MODES,
    SECRET,
    WEEK,
    Reply,
    Site,
    assert_anonymous,
    key_pair,
    make_token,
)


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hs256(header: dict[str, Any] | bytes, payload: Any, key: bytes = SECRET.encode()) -> str:
    """A token signed by hand, so its header and payload can be anything at all."""
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64(head)}.{b64(body)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {**ALICE, "iat": now, "exp": now + WEEK, **extra}


def refused(mode: str, value: str, **options: Any) -> Reply:
    """Send ``value`` as the cookie; assert the request went on anonymous and the cookie goes."""
    reply = Site(mode, **options).request(cookie=f"access_token={value}")
    assert_anonymous(reply)
    assert reply.cookie() == "", "the bad cookie is deleted"
    return reply


def test_a_valid_token_gets_in(mode: str) -> None:
    """The control for every test below: the same request with a good token is logged in."""
    reply = Site(mode).request(cookie=f"access_token={hs256({'alg': 'HS256'}, claims())}")
    assert reply.authenticated_as == "1"


# -- alg none and algorithm confusion (RFC 8725 2.1, 3.1; CVE-2022-29217) -------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "none "])
@pytest.mark.parametrize("signature", ["", "AAAA"])
def test_alg_none_in_any_casing_is_refused(mode: str, alg: str, signature: str) -> None:
    unsigned = f"{b64(json.dumps({'alg': alg, 'typ': 'JWT'}))}.{b64(json.dumps(claims()))}"
    refused(mode, f"{unsigned}.{signature}")


def test_alg_none_with_a_real_signature_is_refused(mode: str) -> None:
    good = hs256({"alg": "HS256"}, claims()).split(".")
    header = b64(json.dumps({"alg": "none"}))
    refused(mode, f"{header}.{good[1]}.{good[2]}")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_another_hmac_algorithm_with_the_right_secret_is_refused(mode: str, alg: str) -> None:
    refused(mode, make_token(algorithm=alg))


def rsa_site(mode: str, **options: Any) -> Site:
    private, _ = key_pair("RS256")
    keys = Keyring([Key.from_pem(algorithm="RS256", private_key=private, kid="rsa")])
    return Site(mode, keys=keys, **options)


def test_rsa_setup_accepts_its_own_token(mode: str) -> None:
    site = rsa_site(mode)
    assert site.request(cookie=f"access_token={site.login()}").authenticated_as == "1"


@pytest.mark.parametrize("kid", [None, "rsa"])
def test_hs256_signed_with_the_rsa_public_key_pem_is_refused(mode: str, kid: str | None) -> None:
    """The classic key confusion: the public key, which everyone has, as the HMAC secret."""
    _, public = key_pair("RS256")
    header: dict[str, Any] = {"alg": "HS256", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    for key in (public, public.strip(), public.replace(b"\n", b"")):
        site = rsa_site(mode)
        reply = site.request(cookie=f"access_token={hs256(header, claims(), key)}")
        assert_anonymous(reply)


def test_hs256_token_on_an_rsa_setup_is_refused(mode: str) -> None:
    reply = rsa_site(mode).request(cookie=f"access_token={make_token(headers={'kid': 'rsa'})}")
    assert_anonymous(reply)


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_asymmetric_token_on_an_hmac_setup_is_refused(mode: str, algorithm: str) -> None:
    private, _ = key_pair(algorithm)
    refused(mode, make_token(key=private, algorithm=algorithm))


def test_rs256_token_signed_by_a_stranger_is_refused(mode: str) -> None:
    stranger, _ = key_pair("PS256")  # another RSA key pair than the site's
    forged = make_token(key=stranger, algorithm="RS256", headers={"kid": "rsa"})
    assert_anonymous(rsa_site(mode).request(cookie=f"access_token={forged}"))


def test_key_confusion_across_a_mixed_keyring_is_refused(mode: str) -> None:
    """An HMAC key and an RSA key side by side: each kid keeps its own algorithm."""
    private, public = key_pair("RS256")
    keys = Keyring(
        [
            Key.hmac(SECRET, kid="hmac"),
            Key.from_pem(algorithm="RS256", public_key=public, kid="rsa"),
        ]
    )
    site = Site(mode, keys=keys)
    as_rsa = hs256({"alg": "HS256", "kid": "rsa"}, claims(), public)
    hmac_secret_as_rsa = hs256({"alg": "HS256", "kid": "rsa"}, claims())
    rsa_as_hmac = make_token(key=private, algorithm="RS256", headers={"kid": "hmac"})
    for forged in (as_rsa, hmac_secret_as_rsa, rsa_as_hmac):
        assert_anonymous(site.request(cookie=f"access_token={forged}"))
    assert site.request(cookie=f"access_token={make_token(headers={'kid': 'hmac'})}").seen["auth"]


@pytest.mark.parametrize(
    "extra_header",
    [
        {"jku": "https://attacker.example/jwks.json"},
        {"x5u": "https://attacker.example/cert.pem"},
        {"kid": "../../../../dev/null"},
        {"kid": "' OR '1'='1"},
        {"kid": 7},
        {"crit": ["exp"], "b64": False},
    ],
)
def test_header_fields_never_choose_the_key(mode: str, extra_header: dict[str, Any]) -> None:
    """Only ``kid`` is read, as a dictionary key; URLs and embedded keys are ignored."""
    attacker = "attacker-" + "k" * 40
    refused(mode, hs256({"alg": "HS256", **extra_header}, claims(), attacker.encode()))


def test_embedded_jwk_header_is_not_trusted(mode: str) -> None:
    """CVE-2018-0114 style: the attacker's own public key, offered in the token's header."""
    attacker_private, attacker_public = key_pair("PS256")
    rsa = jwt.get_algorithm_by_name("RS256")
    jwk = json.loads(rsa.to_jwk(rsa.prepare_key(attacker_public)))
    forged = make_token(key=attacker_private, algorithm="RS256", headers={"jwk": jwk, "kid": "rsa"})
    assert_anonymous(rsa_site(mode).request(cookie=f"access_token={forged}"))


# -- malformed tokens -------------------------------------------------------------------------


GOOD = hs256({"alg": "HS256"}, claims())
HEAD, BODY, SIG = GOOD.split(".")


@pytest.mark.parametrize(
    "value",
    [
        "",
        ".",
        "..",
        "...",
        HEAD,
        f"{HEAD}.{BODY}",
        f"{HEAD}.{BODY}.",
        f"{HEAD}.{BODY}.{SIG}.",
        f"{HEAD}.{BODY}.{SIG}.{SIG}",
        f"{HEAD}.{BODY}.{SIG}.{HEAD}.{BODY}",
        f".{BODY}.{SIG}",
        f"{HEAD}..{SIG}",
        GOOD[:-1],
        GOOD[:-5],
        GOOD[: len(GOOD) // 2],
        GOOD[1:],
    ],
    ids=lambda value: f"len{len(value)}-dots{value.count('.')}",
)
def test_empty_truncated_and_extra_segments_are_refused(mode: str, value: str) -> None:
    reply = Site(mode).request(cookie=f"access_token={value}")
    assert_anonymous(reply)


@pytest.mark.parametrize(
    "value",
    [
        f"{HEAD}=.{BODY}.{SIG}",
        f"{HEAD}.{BODY}==.{SIG}",
        f"{HEAD}.{BODY}.{SIG}===",
        f"{HEAD}.{BODY}.{SIG}{'=' * (-len(SIG) % 4) or '=='}",  # padded as base64 pads
        f"{HEAD}.{BODY}.{SIG[:-2]}!!",
        f"{HEAD}.{BODY}.{SIG}%3D",
        f"{HEAD}.{BODY}.{base64.b64encode(base64.urlsafe_b64decode(SIG + '=')).decode()}x",
        f"{HEAD}.{BODY[:-1]}\x00.{SIG}",
        f"{HEAD}.{BODY}.{SIG[:-1]}é",
        "!!!.@@@.###",
        "eyJ.eyJ.eyJ",
        "e30.e30.e30",
    ],
    ids=lambda value: f"{value[-6:]!r}",
)
def test_bad_base64_and_padding_are_refused(mode: str, value: str) -> None:
    assert_anonymous(Site(mode).request(cookie=f"access_token={value}".encode()))


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"{", b"[]", b"[1, 2]", b'"a string"', b"42", b"null", b"true", b"\xff\xfe"],
)
def test_non_json_or_non_object_payload_is_refused(mode: str, payload: bytes) -> None:
    refused(mode, hs256({"alg": "HS256"}, payload))


@pytest.mark.parametrize(
    "header", [b"not json", b"[]", b'"HS256"', b"null", b'{"alg": null}', b'{"alg": ["HS256"]}']
)
def test_non_json_or_non_object_header_is_refused(mode: str, header: bytes) -> None:
    refused(mode, hs256(header, claims()))


# -- time claims (RFC 7519 4.1.4-4.1.6) --------------------------------------------------------

WRONG_TYPES = ["1700000000", True, False, [1], {"t": 1}, "NaN", ""]
NOW = int(time.time())


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", WRONG_TYPES, ids=repr)
def test_time_claim_of_the_wrong_type_is_refused(mode: str, claim: str, value: Any) -> None:
    refused(mode, hs256({"alg": "HS256"}, claims(**{claim: value})))


@pytest.mark.parametrize("claim", ["exp", "iat"])
@pytest.mark.parametrize(
    "value",
    [10**400, -(10**400), 1e308, -1e308, 2**63, -(2**63), 1e12, -1, 0, -NOW],
    ids=lambda value: str(value)[:12],
)
def test_huge_or_negative_time_claim_is_refused(mode: str, claim: str, value: Any) -> None:
    """10**400 used to escape as OverflowError from the codec (math.isfinite on an int)."""
    refused(mode, hs256({"alg": "HS256"}, claims(**{claim: value})))


@pytest.mark.parametrize("value", [10**400, 1e308, 2**63, 1e12, -(10**400)], ids=str)
def test_huge_nbf_is_refused(mode: str, value: Any) -> None:
    """A past ``nbf`` is simply valid; a huge one is refused (and never overflows)."""
    refused(mode, hs256({"alg": "HS256"}, claims(nbf=value)))


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_null_exp_or_iat_is_refused(mode: str, claim: str) -> None:
    refused(mode, hs256({"alg": "HS256"}, claims(**{claim: None})))


def test_nan_and_infinity_time_claims_are_refused(mode: str) -> None:
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        payload = json.dumps(claims(exp=0)).replace('"exp": 0', f'"exp": {literal.decode()}')
        refused(mode, hs256({"alg": "HS256"}, payload.encode()))


@pytest.mark.parametrize("life", [WEEK + 3600, 10 * 365 * 86400, 10**11])
def test_far_future_exp_is_refused(mode: str, life: int) -> None:
    """We never issue a longer life than max_age; such a token was made elsewhere."""
    refused(mode, hs256({"alg": "HS256"}, claims(exp=NOW + life)))


@pytest.mark.parametrize("ahead", [3600, WEEK, 10**9])
def test_iat_or_nbf_in_the_future_is_refused(mode: str, ahead: int) -> None:
    refused(mode, hs256({"alg": "HS256"}, claims(iat=NOW + ahead, exp=NOW + ahead + 60)))
    refused(mode, hs256({"alg": "HS256"}, claims(nbf=NOW + ahead)))


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_missing_exp_or_iat_is_refused(mode: str, claim: str) -> None:
    payload = claims()
    del payload[claim]
    refused(mode, hs256({"alg": "HS256"}, payload))


def test_expired_token_is_refused(mode: str) -> None:
    reply = refused(mode, make_token(issued=NOW - WEEK - 60))
    assert reply.seen["reason"] == "expired"


def test_exp_before_iat_is_refused(mode: str) -> None:
    refused(mode, hs256({"alg": "HS256"}, claims(iat=NOW, exp=NOW - 1)))


# -- issuer and audience (CVE-2024-53861, RFC 8725 3.9) ---------------------------------------

ISSUER = "https://auth.example.com"


@pytest.mark.parametrize(
    "iss",
    [
        "https://auth.example.co",
        "auth.example.com",
        "https://auth.example.com/",
        "",
        "h",
        [ISSUER],
        ["x", ISSUER],
        None,
    ],
    ids=repr,
)
def test_issuer_must_match_exactly(mode: str, iss: Any) -> None:
    """A partial or list match is not the issuer (PyJWT 2.10.0 accepted substrings)."""
    extra = {} if iss is None else {"iss": iss}
    refused(mode, hs256({"alg": "HS256"}, claims(**extra)), issuer=ISSUER)
    good = hs256({"alg": "HS256"}, claims(iss=ISSUER))
    assert Site(mode, issuer=ISSUER).request(cookie=f"access_token={good}").seen["auth"]


def test_token_meant_for_another_audience_is_refused(mode: str) -> None:
    refused(mode, hs256({"alg": "HS256"}, claims(aud="https://other.example")))
    refused(
        mode, hs256({"alg": "HS256"}, claims(aud="https://other.example")), audience="https://us"
    )


# -- a token of another kind (RFC 8725 3.11) ---------------------------------------------------


@pytest.mark.parametrize(
    ("header", "extra"),
    [
        ({"alg": "HS256", "typ": "JWT"}, {"type": "refresh", "jti": "x", "sub": "1"}),
        ({"alg": "HS256", "typ": "JWT"}, {"token_type": "refresh", "jti": "x", "user_id": 1}),
        ({"alg": "HS256", "typ": "JWT"}, {"token_use": "id"}),
        ({"alg": "HS256", "typ": "verify-email+jwt"}, {}),
        ({"alg": "HS256", "typ": "application/reset-password+jwt"}, {}),
        ({"alg": "HS256", "typ": "JOSE"}, {}),
        ({"alg": "HS256", "typ": 1}, {}),
        ({"alg": "HS256"}, {"type": ["access"]}),
    ],
    ids=[
        "flask-jwt-extended-refresh",
        "simplejwt-refresh",
        "cognito-id",
        "typ-verify-email",
        "typ-application-reset-password",
        "typ-jose",
        "typ-not-a-string",
        "kind-not-a-string",
    ],
)
def test_a_token_of_another_kind_is_refused(
    mode: str, header: dict[str, Any], extra: dict[str, Any]
) -> None:
    """A refresh token, an ID token or an e-mail link's token signed with the shared secret is
    no login. Before the fix each one logged in."""
    refused(mode, hs256(header, claims(**extra)))


@pytest.mark.parametrize(
    ("header", "extra"),
    [
        ({"alg": "HS256", "typ": "JWT"}, {}),
        ({"alg": "HS256"}, {}),
        ({"alg": "HS256", "typ": "jwt"}, {}),
        ({"alg": "HS256", "typ": "application/jwt"}, {}),
        ({"alg": "HS256", "typ": "JWT"}, {"type": "access", "fresh": False, "sub": "1"}),
        ({"alg": "HS256", "typ": "JWT"}, {"token_type": "access", "jti": "x", "user_id": 1}),
        ({"alg": "HS256", "typ": "JWT"}, {"token_use": "access"}),
    ],
    ids=[
        "node-jsonwebtoken",
        "no-typ",
        "typ-lower-case",
        "typ-media-type",
        "flask-jwt-extended-access",
        "simplejwt-access",
        "cognito-access",
    ],
)
def test_a_login_token_of_every_peer_still_gets_in(
    mode: str, header: dict[str, Any], extra: dict[str, Any]
) -> None:
    reply = Site(mode).request(cookie=f"access_token={hs256(header, claims(**extra))}")
    assert reply.authenticated_as == "1"


def test_with_token_type_every_token_must_say_it_is_one(mode: str) -> None:
    site = Site(mode, token_type="session+jwt")
    minted = site.login()
    assert jwt.get_unverified_header(minted)["typ"] == "session+jwt"
    assert site.request(cookie=f"access_token={minted}").authenticated_as == "1"
    typed = hs256({"alg": "HS256", "typ": "application/Session+JWT"}, claims())
    assert site.request(cookie=f"access_token={typed}").authenticated_as == "1"
    for header in ({"alg": "HS256", "typ": "JWT"}, {"alg": "HS256"}):
        refused(mode, hs256(header, claims()), token_type="session+jwt")
    refused(mode, make_token(), token_type="session+jwt")  # Node's: typ JWT
    kind = hs256({"alg": "HS256", "typ": "session+jwt"}, claims(type="refresh"))
    refused(mode, kind, token_type="session+jwt")
    assert minted not in Site(mode).request(cookie=f"access_token={minted}").body.decode()


def test_login_refuses_a_kind_claim_it_would_refuse(mode: str) -> None:
    site = Site(mode)
    with pytest.raises(ValueError, match="type claim"):
        site.middleware.issue({**ALICE, "type": "refresh"})
    assert site.middleware.issue({**ALICE, "type": "access"})


@pytest.mark.parametrize("token_type", ["", "session jwt", "séance+jwt", 7])
def test_a_malformed_token_type_is_refused_at_construction(token_type: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="token_type"):
        Site("wsgi", token_type=token_type)


# -- size -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [4097, 65536, 1_000_000])
def test_oversized_token_is_refused_without_decoding(mode: str, size: int) -> None:
    padded = hs256({"alg": "HS256"}, claims(pad="x" * size))
    refused(mode, padded)


# -- properties -------------------------------------------------------------------------------

SITES = {mode: Site(mode) for mode in MODES}
FAST = settings(max_examples=200, deadline=None)
B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
segment = st.text(alphabet=B64_CHARS + "=.+/ ", max_size=80)


def survives(value: str | bytes) -> list[Reply]:
    """The reply of each flavour; both must be a 200 from the handler itself."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    replies = [site.request(cookie=b"access_token=" + raw) for site in SITES.values()]
    for reply in replies:
        assert reply.status == 200, reply.body
    return replies


@FAST
@given(st.text(max_size=300))
def test_any_text_as_token_never_crashes_or_logs_in(value: str) -> None:
    for reply in survives(value):
        assert not reply.seen["auth"]


@FAST
@given(st.lists(segment, min_size=0, max_size=5).map(".".join))
def test_any_jwt_shaped_string_never_crashes_or_logs_in(value: str) -> None:
    for reply in survives(value):
        assert not reply.seen["auth"]


@FAST
@given(
    header=st.dictionaries(
        st.sampled_from(["alg", "kid", "typ", "crit", "jku"]),
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    ),
    payload=st.dictionaries(
        st.sampled_from(["exp", "iat", "nbf", "_id", "iss", "aud", "auth_time"]),
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=8),
    ),
)
def test_any_claims_signed_with_the_secret_never_crash(
    header: dict[str, Any], payload: dict[str, Any]
) -> None:
    """Even with a good signature, claims of any type and size only ever make it anonymous."""
    for reply in survives(hs256(header, payload)):
        seen = reply.seen
        if seen["auth"]:  # only a well-formed, in-date HS256 token may get in
            assert header.get("alg") == "HS256"
            assert NOW - WEEK <= payload["iat"] <= payload["exp"] <= NOW + WEEK + 60


def decoded_parts(value: str) -> list[bytes] | None:
    try:
        return [
            base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in value.split(".")
        ]
    except ValueError:
        return None


@FAST
@given(index=st.integers(min_value=0, max_value=len(GOOD) - 1), char=st.characters())
def test_any_one_character_change_to_a_valid_token_is_refused(index: int, char: str) -> None:
    mutated = GOOD[:index] + char + GOOD[index + 1 :]
    for reply in survives(mutated):
        if reply.seen["auth"]:  # only base64's ignored low bits can change and still verify
            assert decoded_parts(mutated) == decoded_parts(GOOD)
