"""The issuer's private keys: one PEM file per key in a directory, named ``<kid>.pem``.

A kid is ``<unix time it was made>-<random>``. Rotating is adding a file (``python -m
demos.scale_out rotate``):

- a new key is published in the JWKS at once, and signs once it has been published for
  ``publish_ahead`` seconds, so verifiers have fetched it before they see a token signed
  with it (they fetch on an unknown kid anyway: this only spares them the wait);
- an old key stays published until every token it signed has expired (``max_age`` after the
  next key began to sign), then it is left out, and ``rotate`` deletes its file.

Keep the directory secret: whoever reads these files can sign in as anyone. Ed25519 keys
(EdDSA): small, fast, and with no parameters to choose wrong.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from jwtcookie import Key, Keyring

ALGORITHM = "EdDSA"
LEEWAY = 10  # the middleware's default leeway: a token's exp may run this far ahead
MAX_AGE = 7 * 24 * 3600  # the issuer's tokens live this long (the middleware's default)


def created(kid: str) -> int:
    """When the key was made (the kid's first part)."""
    return int(kid.split("-", 1)[0])


def new_key(directory: Path) -> str:
    """Write a new private key file (readable by its owner only); its kid."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    kid = f"{int(time.time())}-{secrets.token_hex(4)}"
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = directory / f"{kid}.pem"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return kid


def ensure_key(directory: Path) -> None:
    """On the first run, make the first key."""
    if not list(directory.glob("*.pem")):
        new_key(directory)


def plan(directory: Path, *, publish_ahead: float, max_age: int) -> tuple[list[str], str]:
    """The kids to publish (oldest first) and the one that signs, as of now."""
    kids = sorted((path.stem for path in directory.glob("*.pem")), key=created)
    if not kids:
        raise FileNotFoundError(f"no key in {directory}: run `python -m demos.scale_out rotate`")
    now = time.time()
    ready = [kid for kid in kids if created(kid) + publish_ahead <= now]
    signer = ready[-1] if ready else kids[0]
    first = kids.index(signer)
    # An older key stopped signing when the next one began to: its tokens live max_age more.
    while first > 0 and created(kids[first]) + publish_ahead + max_age + LEEWAY > now:
        first -= 1
    return kids[first:], signer


def load_keyring(directory: Path, *, publish_ahead: float, max_age: int) -> Keyring:
    """The keys to publish and verify with, and the one to sign with, from their files."""
    kids, signer = plan(directory, publish_ahead=publish_ahead, max_age=max_age)
    keys = [
        Key.from_pem_files(algorithm=ALGORITHM, private_key_file=directory / f"{kid}.pem", kid=kid)
        for kid in kids
    ]
    return Keyring(keys, signing_kid=signer)


def rotate(directory: Path, *, publish_ahead: float, max_age: int) -> str:
    """Add a key; delete the files of keys no token can need any more. The new kid."""
    kid = new_key(directory)
    kept, _signer = plan(directory, publish_ahead=publish_ahead, max_age=max_age)
    for path in directory.glob("*.pem"):
        if path.stem not in kept:
            path.unlink()
    return kid
