"""Keys: rotation without logging anyone out, asymmetric sign-here-verify-there, JWKS,
PEM from files and the environment, and the construction errors that keep keys sane."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest

from jwtcookie import JWTCookieMiddleware, Key, Keyring, secret_from_env
from tests.harness import (
    DAY,
    SECRET,
    Clock,
    Site,
    assert_anonymous,
    bare_app,
    key_pair,
    make_token,
)

OLD_SECRET = "old-secret-" + "o" * 40
NEW_SECRET = "new-secret-" + "n" * 40
ASYMMETRIC = ["RS256", "ES256", "EdDSA"]


def kid_of(value: str) -> str | None:
    return jwt.get_unverified_header(value).get("kid")  # type: ignore[no-any-return]


def who(site: Site, value: str) -> str | None:
    return site.request(cookie=f"{site.cookie_name}={value}").authenticated_as


# -- rotation ---------------------------------------------------------------------------------


def test_key_rotation_logs_nobody_out(mode: str) -> None:
    old = Key.hmac(OLD_SECRET, kid="2024")
    new = Key.hmac(NEW_SECRET, kid="2025")
    site = Site(mode, keys=Keyring([old]))
    before = site.login()
    assert kid_of(before) == "2024"
    assert who(site, before) == "1"  # now cached as verified

    site.middleware.rotate_keys(Keyring([old, new], signing_kid="2025"))
    assert who(site, before) == "1", "the old kid still verifies"
    after = site.login()
    assert kid_of(after) == "2025", "new tokens carry the new kid"
    assert who(site, after) == "1"

    site.middleware.rotate_keys(Keyring([new]))
    assert_anonymous(site.request(cookie=f"access_token={before}"))  # cache cleared too
    assert who(site, after) == "1"


def test_rotation_by_restart_with_a_new_keyring(mode: str) -> None:
    """Each deploy builds a new middleware; tokens from the last deploy keep working."""
    old = Key.hmac(OLD_SECRET, kid="a")
    before = Site(mode, keys=Keyring([old])).login()
    rotated = Site(mode, keys=Keyring([old, Key.hmac(NEW_SECRET, kid="b")], signing_kid="b"))
    assert who(rotated, before) == "1"
    assert kid_of(rotated.login()) == "b"


def test_unknown_kid_is_refused(mode: str) -> None:
    site = Site(
        mode,
        keys=Keyring(
            [Key.hmac(OLD_SECRET, kid="a"), Key.hmac(NEW_SECRET, kid="b")], signing_kid="b"
        ),
    )
    for header in ({"kid": "c"}, {"kid": ""}, {}, {"kid": "B"}, {"kid": "b "}):
        assert_anonymous(
            site.request(cookie=f"access_token={make_token(key=NEW_SECRET, headers=header)}")
        )
    assert who(site, make_token(key=NEW_SECRET, headers={"kid": "b"})) == "1"


def test_a_kid_never_borrows_another_keys_secret(mode: str) -> None:
    site = Site(
        mode,
        keys=Keyring(
            [Key.hmac(OLD_SECRET, kid="a"), Key.hmac(NEW_SECRET, kid="b")], signing_kid="b"
        ),
    )
    assert_anonymous(
        site.request(cookie=f"access_token={make_token(key=NEW_SECRET, headers={'kid': 'a'})}")
    )


def test_a_single_key_with_a_kid_requires_that_kid(mode: str) -> None:
    site = Site(mode, keys=Keyring([Key.hmac(SECRET, kid="only")]))
    assert_anonymous(site.request(cookie=f"access_token={make_token()}"))
    assert who(site, make_token(headers={"kid": "only"})) == "1"


# -- asymmetric: sign here, verify there ------------------------------------------------------


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_sign_here_verify_there_with_the_public_key_only(mode: str, algorithm: str) -> None:
    private, public = key_pair(algorithm)
    issuer = Site(
        mode, keys=Keyring([Key.from_pem(algorithm=algorithm, private_key=private, kid="k1")])
    )
    verifier = Site(
        mode, keys=Keyring([Key.from_pem(algorithm=algorithm, public_key=public, kid="k1")])
    )
    issued = issuer.login()
    assert jwt.get_unverified_header(issued)["alg"] == algorithm
    assert who(verifier, issued) == "1"
    assert who(issuer, issued) == "1"


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_verify_only_service_never_renews_and_never_crashes(
    mode: str, algorithm: str, clock: Clock
) -> None:
    """It cannot sign: past half-life it accepts the token as is (renewal is the issuer's).

    Before the fix, renewal raised RuntimeError on every request past half the token's life.
    """
    private, public = key_pair(algorithm)
    issuer = Site(
        mode, clock=clock, keys=Keyring([Key.from_pem(algorithm=algorithm, private_key=private)])
    )
    verifier = Site(
        mode, clock=clock, keys=Keyring([Key.from_pem(algorithm=algorithm, public_key=public)])
    )
    issued = issuer.login()
    clock.advance(5 * DAY)
    reply = verifier.request(cookie=f"access_token={issued}")
    assert reply.authenticated_as == "1"
    assert reply.cookie() is None
    assert issuer.request(cookie=f"access_token={issued}").cookie(), "the issuer renews"


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_verify_with_only_a_jwks_document(mode: str, algorithm: str) -> None:
    private, _ = key_pair(algorithm)
    keyring = Keyring([Key.from_pem(algorithm=algorithm, private_key=private, kid="2025-01")])
    document = keyring.jwks()
    assert [key["kid"] for key in document["keys"]] == ["2025-01"]
    assert all("d" not in key for key in document["keys"]), "no private parts published"
    issued = Site(mode, keys=keyring).login()
    for jwks in (document, json.dumps(document)):
        assert who(Site(mode, keys=Keyring.from_jwks(jwks)), issued) == "1"


def test_jwks_rotation_old_and_new_public_keys(mode: str) -> None:
    (old_private, _), (new_private, _) = key_pair("ES256"), key_pair("RS256")
    old = Key.from_pem(algorithm="ES256", private_key=old_private, kid="old")
    new = Key.from_pem(algorithm="RS256", private_key=new_private, kid="new")
    before = Site(mode, keys=Keyring([old])).login()
    signer = Keyring([old, new], signing_kid="new")
    after = Site(mode, keys=signer).login()
    verifier = Site(mode, keys=Keyring.from_jwks(signer.jwks()))
    assert who(verifier, before) == "1"
    assert who(verifier, after) == "1"


def test_pem_from_files(mode: str, tmp_path: Path) -> None:
    private, public = key_pair("ES256")
    (tmp_path / "private.pem").write_bytes(private)
    (tmp_path / "public.pem").write_bytes(public)
    signing = Key.from_pem_files(algorithm="ES256", private_key_file=tmp_path / "private.pem")
    checking = Key.from_pem_files(algorithm="ES256", public_key_file=str(tmp_path / "public.pem"))
    assert (
        who(Site(mode, keys=Keyring([checking])), Site(mode, keys=Keyring([signing])).login())
        == "1"
    )


def test_pem_from_the_environment(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = key_pair("EdDSA")
    monkeypatch.setenv("JWT_PRIVATE_KEY", private.decode())
    monkeypatch.setenv("JWT_PUBLIC_KEY", public.decode())
    import os

    signing = Key.from_pem(algorithm="EdDSA", private_key=os.environ["JWT_PRIVATE_KEY"])
    checking = Key.from_pem(algorithm="EdDSA", public_key=os.environ["JWT_PUBLIC_KEY"])
    assert (
        who(Site(mode, keys=Keyring([checking])), Site(mode, keys=Keyring([signing])).login())
        == "1"
    )


# -- construction errors ----------------------------------------------------------------------


def app() -> object:
    return bare_app("wsgi")


@pytest.mark.parametrize("secret", ["short", "x" * 31, b"\x00" * 31])
def test_short_secret_is_refused_with_how_to_make_one(secret: str | bytes) -> None:
    with pytest.raises(ValueError, match=r"openssl rand -hex 64"):
        JWTCookieMiddleware(app(), secret=secret)


@pytest.mark.parametrize("secret", [None, "", b""])
def test_missing_secret_is_refused_with_how_to_make_one(secret: str | bytes | None) -> None:
    with pytest.raises(ValueError, match=r"openssl rand -hex 64"):
        JWTCookieMiddleware(app(), secret=secret)


def test_hs512_needs_a_64_byte_secret() -> None:
    with pytest.raises(ValueError, match="HS512 needs at least 64"):
        JWTCookieMiddleware(app(), secret="x" * 63, algorithm="HS512")


@pytest.mark.parametrize("algorithm", ["none", "None", "NONE", "", "RS256", "hs256", "HS1"])
def test_none_or_non_hmac_algorithm_with_a_secret_is_refused(algorithm: str) -> None:
    with pytest.raises(ValueError, match="not an HMAC algorithm"):
        JWTCookieMiddleware(app(), secret=SECRET, algorithm=algorithm)


@pytest.mark.parametrize("algorithm", ["none", "HS256", "XS256"])
def test_none_or_hmac_algorithm_for_a_pem_key_is_refused(algorithm: str) -> None:
    _, public = key_pair("RS256")
    with pytest.raises(ValueError, match="not an asymmetric algorithm"):
        Key.from_pem(algorithm=algorithm, public_key=public)


def test_public_key_pem_given_as_hmac_secret_is_refused() -> None:
    """The key-confusion set-up itself: a public key, which everybody has, as the secret."""
    _, public = key_pair("RS256")
    for secret in (public, public.decode(), b"ssh-rsa AAAAB3NzaC1yc2E" + b"A" * 40):
        with pytest.raises(ValueError, match="PEM, SSH or DER key"):
            Key.hmac(secret)


def test_private_key_given_as_public_is_refused() -> None:
    private, _ = key_pair("ES256")
    with pytest.raises(ValueError, match="public key, not a private one"):
        Key.from_pem(algorithm="ES256", public_key=private)


def test_pem_key_needs_a_half() -> None:
    with pytest.raises(ValueError, match="needs private_key, public_key or both"):
        Key.from_pem(algorithm="ES256")


def test_several_signers_need_a_signing_kid() -> None:
    keys = [Key.hmac(OLD_SECRET, kid="a"), Key.hmac(NEW_SECRET, kid="b")]
    with pytest.raises(ValueError, match="signing_kid"):
        Keyring(keys)
    assert Keyring(keys, signing_kid="b").signing_key is keys[1]


def test_keyring_errors() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        Keyring([])
    with pytest.raises(ValueError, match="distinct kid"):
        Keyring([Key.hmac(OLD_SECRET, kid="a"), Key.hmac(NEW_SECRET, kid="a")], signing_kid="a")
    with pytest.raises(ValueError, match="distinct kid"):
        Keyring([Key.hmac(OLD_SECRET), Key.hmac(NEW_SECRET, kid="b")], signing_kid="b")
    with pytest.raises(ValueError, match="not in the keyring"):
        Keyring([Key.hmac(OLD_SECRET, kid="a")], signing_kid="z")
    _, public = key_pair("ES256")
    with pytest.raises(ValueError, match="public only"):
        Keyring([Key.from_pem(algorithm="ES256", public_key=public, kid="p")], signing_kid="p")
    with pytest.raises(ValueError, match="either secret= or keys="):
        JWTCookieMiddleware(app(), secret=SECRET, keys=Keyring([Key.hmac(SECRET)]))


def test_hmac_keys_are_never_published() -> None:
    with pytest.raises(ValueError, match="no public half"):
        Keyring([Key.hmac(SECRET)]).jwks()


@pytest.mark.parametrize(
    "document",
    [
        {"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256", "kid": "x"}]},
        {"keys": [{"kty": "RSA", "kid": "x"}]},
        {"keys": [{"kty": "RSA", "alg": "none", "kid": "x"}]},
        {"keys": []},
        {"nokeys": 1},
    ],
)
def test_bad_jwks_documents_are_refused(document: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="jwtcookie"):
        Keyring.from_jwks(document)


def test_verify_only_keyring_cannot_issue(mode: str) -> None:
    _, public = key_pair("ES256")
    site = Site(mode, keys=Keyring([Key.from_pem(algorithm="ES256", public_key=public)]))
    with pytest.raises(RuntimeError, match="no signing key"):
        site.middleware.issue({"_id": "1"})


# -- secret_from_env --------------------------------------------------------------------------


def test_secret_from_env(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    assert secret_from_env() == SECRET
    site = Site(mode, secret=secret_from_env())
    assert who(site, make_token()) == "1"
    monkeypatch.setenv("OTHER_SECRET", NEW_SECRET)
    assert secret_from_env("OTHER_SECRET") == NEW_SECRET


def test_secret_from_env_refuses_missing_or_short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    with pytest.raises(ValueError, match=r"JWT_SECRET is not set.*openssl rand -hex 64"):
        secret_from_env()
    monkeypatch.setenv("JWT_SECRET", "")
    with pytest.raises(ValueError, match="openssl rand -hex 64"):
        secret_from_env()
    monkeypatch.setenv("JWT_SECRET", "too-short")
    with pytest.raises(ValueError, match=r"environment variable JWT_SECRET is 9 bytes"):
        secret_from_env()


# -- a JWKS carries public keys only, in and out -------------------------------------------------

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def private_jwk(algorithm: str) -> dict[str, object]:
    """The full private key as a JWK (with `d`, and the RSA primes and exponents)."""
    private_pem, _ = key_pair(algorithm)
    algo = jwt.get_algorithm_by_name(algorithm)
    jwk: dict[str, object] = json.loads(algo.to_jwk(algo.prepare_key(private_pem)))
    return {**jwk, "alg": algorithm, "kid": "leaky"}


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_a_jwks_with_private_members_is_refused(algorithm: str) -> None:
    """Before the fix such a document loaded, and jwks() then published `d` and the primes."""
    jwk = private_jwk(algorithm)
    assert "d" in jwk
    with pytest.raises(ValueError, match="private"):
        Keyring.from_jwks({"keys": [jwk]})


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_jwks_never_publishes_private_material(algorithm: str) -> None:
    private_pem, _ = key_pair(algorithm)
    private = jwt.get_algorithm_by_name(algorithm).prepare_key(private_pem)
    keys = [
        Key.from_pem(algorithm=algorithm, private_key=private_pem, kid="signer"),
        Key(algorithm=algorithm, verify_with=private, kid="built-by-hand"),  # private as public
    ]
    published = Keyring(keys, signing_kid="signer").jwks()["keys"]
    assert [jwk["kid"] for jwk in published] == ["signer", "built-by-hand"]
    for jwk in published:
        assert not PRIVATE_MEMBERS & set(jwk), jwk
        assert Keyring.from_jwks({"keys": [jwk]}).find(jwk["kid"]).sign_with is None  # type: ignore[union-attr]
