"""Serve the Starlette demo with uvicorn: `python -m demos.starlette_demo` (see README)."""

from __future__ import annotations

import logging
import os
import sys

import uvicorn

from .app import create_app


def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    if not port.isdigit():
        sys.exit(f"starlette_demo: PORT must be a number, not {port!r}")
    logging.basicConfig(level=logging.INFO)  # jwtcookie's configuration, refused tokens
    try:
        app = create_app()  # from the environment
    except ValueError as error:  # a JWT_SECRET shorter than 32 bytes: say so, no traceback
        sys.exit(f"starlette_demo: {error}")
    # uvicorn is a production ASGI server; it logs every request. For several worker processes
    # give it the factory: uvicorn --factory demos.starlette_demo.app:create_app --workers 4
    # (with JWT_SECRET set, so every worker signs with the same key).
    trusted_proxy = os.environ.get("TRUSTED_PROXY")
    if trusted_proxy:
        # Behind a reverse proxy at this IP address: believe its X-Forwarded-Proto and
        # X-Forwarded-For. uvicorn keeps the Host header: the proxy must pass the original one.
        uvicorn.run(
            app,
            host=host,
            port=int(port),
            proxy_headers=True,
            forwarded_allow_ips=trusted_proxy,
        )
    else:
        # No proxy: believe no X-Forwarded-* header (uvicorn on its own trusts 127.0.0.1).
        uvicorn.run(app, host=host, port=int(port), proxy_headers=False)


if __name__ == "__main__":
    main()
