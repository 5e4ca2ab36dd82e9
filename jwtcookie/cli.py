"""``python -m jwtcookie`` (or ``jwtcookie``): make a secret, read a token, mint one, print a JWKS.

    jwtcookie secret                      a new HMAC secret for JWT_SECRET
    jwtcookie inspect TOKEN               its header and claims, and whether the middleware
                                          would accept it, or exactly why not
    jwtcookie mint '{"_id": "42"}'        a token for those claims (tests, curl)
    jwtcookie jwks --private-key-file K   the public JWKS of an asymmetric key

The key comes from the environment (``JWT_SECRET``, or ``--secret-env NAME``), never from
the command line, where shell history and ``ps`` would keep it. ``-`` reads the token or
the claims from standard input, for the same reason.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import jwt

from jwtcookie._tokens.codec import Verified, span
from jwtcookie.keys import Key, Keyring, secret_from_env
from jwtcookie.settings import SEVEN_DAYS, Settings

USAGE_ERROR = 2  # argparse's own
REFUSED = 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, TypeError, OSError, RuntimeError) as error:
        print(f"jwtcookie: {str(error).removeprefix('jwtcookie: ')}", file=sys.stderr)
        return USAGE_ERROR


def _parser() -> argparse.ArgumentParser:
    summary, *_, key_note = (__doc__ or "").replace("``", "").strip().split("\n\n")
    parser = argparse.ArgumentParser(prog="jwtcookie", description=summary, epilog=key_note)
    commands = parser.add_subparsers(required=True, metavar="command")

    secret = commands.add_parser("secret", help="print a new secret for JWT_SECRET")
    secret.set_defaults(run=_secret)

    inspect = commands.add_parser("inspect", help="read a token; say if it would be accepted")
    inspect.add_argument("token", help="the token, or - to read it from standard input")
    _verification_options(inspect)
    inspect.set_defaults(run=_inspect)

    mint = commands.add_parser("mint", help="print a token for some claims")
    mint.add_argument("claims", help='a JSON object such as \'{"_id": "42"}\', or -')
    mint.add_argument(
        "--age", type=_duration, default=0, help="how old the token is: 30s, 4d, 2h (default 0)"
    )
    _verification_options(mint)
    mint.set_defaults(run=_mint)

    jwks = commands.add_parser("jwks", help="print the public JWKS of a key")
    jwks.add_argument("--private-key-file", "--public-key-file", dest="key_file", required=True)
    jwks.add_argument("--algorithm", required=True, help="RS256, ES256, EdDSA, ...")
    jwks.add_argument("--kid", help="the key's id, as the issuer names it in tokens")
    jwks.set_defaults(run=_jwks)
    return parser


def _verification_options(parser: argparse.ArgumentParser) -> None:
    """The options that change what the middleware accepts, with the middleware's defaults."""
    parser.add_argument(
        "--secret-env", default="JWT_SECRET", help="the environment variable holding the secret"
    )
    parser.add_argument("--algorithm", default="HS256", help="HS256 (default), HS384, HS512")
    parser.add_argument(
        "--public-key-file", help="verify with this PEM public key instead (needs --algorithm)"
    )
    parser.add_argument("--max-age", type=_duration, default=SEVEN_DAYS, help="default 7d")
    parser.add_argument("--issuer")
    parser.add_argument("--audience")
    parser.add_argument("--leeway", type=float, default=10)


def _settings(args: argparse.Namespace) -> Settings:
    if args.public_key_file:
        with open(args.public_key_file, "rb") as file:
            key = Key.from_pem(algorithm=args.algorithm, public_key=file.read())
        source: dict[str, Any] = {"keys": Keyring([key])}
    else:
        source = {"secret": secret_from_env(args.secret_env), "algorithm": args.algorithm}
    return Settings(
        **source,
        max_age=args.max_age,
        issuer=args.issuer,
        audience=args.audience,
        leeway=args.leeway,
    )


def _secret(args: argparse.Namespace) -> int:
    print(secrets.token_hex(64))
    return 0


def _inspect(args: argparse.Namespace) -> int:
    token = _argument(args.token)
    codec = _settings(args).codec(cache_size=0)
    try:
        header, claims = jwt.get_unverified_header(token), _unverified_claims(token)
        print(json.dumps({"header": header, "claims": claims}, indent=2, sort_keys=True))
    except (jwt.PyJWTError, ValueError):
        print("(not a readable JWT)")
    outcome = codec.diagnose(token)
    if not isinstance(outcome, Verified):
        print(f"refused ({outcome.reason}): {outcome.detail}")
        return REFUSED
    now = codec.clock()
    left = span(outcome.expires_at - now)
    renew = "now" if now > outcome.renew_at else f"in {span(outcome.renew_at - now)}"
    print(f"accepted: expires in {left} ({_when(outcome.expires_at)}); renewed {renew}")
    return 0


def _mint(args: argparse.Namespace) -> int:
    claims = json.loads(_argument(args.claims))
    if not isinstance(claims, dict):
        raise ValueError('the claims are a JSON object, such as {"_id": "42"}')
    settings = _settings(args)
    codec = settings.codec(clock=lambda: settings.clock() - args.age, cache_size=0)
    print(codec.issue(claims)[0])
    return 0


def _jwks(args: argparse.Namespace) -> int:
    with open(args.key_file, "rb") as file:
        pem = file.read()
    private = b"PRIVATE KEY" in pem
    key = Key.from_pem(
        algorithm=args.algorithm,
        private_key=pem if private else None,
        public_key=None if private else pem,
        kid=args.kid,
    )
    print(json.dumps(Keyring([key]).jwks(), indent=2))
    return 0


def _argument(value: str) -> str:
    return sys.stdin.read().strip() if value == "-" else value.strip()


def _unverified_claims(token: str) -> Any:
    return jwt.decode(token, options={"verify_signature": False})


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(text: str) -> int:
    """``90``, ``90s``, ``15m``, ``2h``, ``4d`` as whole seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        return int(float(number) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 30s or 4d") from None
