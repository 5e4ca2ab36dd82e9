"""Serve the Flask demo with waitress: `python -m demos.flask_demo` (see README)."""

from __future__ import annotations

import logging
import os
import sys

import waitress

from .app import create_app


def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "5000")
    if not port.isdigit():
        sys.exit(f"flask_demo: PORT must be a number, not {port!r}")
    # INFO: waitress's "Serving on ...", one line per request, and jwtcookie's configuration
    # and the reason for every token it refuses.
    logging.basicConfig(level=logging.INFO)
    try:
        app = create_app()  # from the environment
    except ValueError as error:  # a JWT_SECRET shorter than 32 bytes: say so, no traceback
        sys.exit(f"flask_demo: {error}")
    # waitress is a production WSGI server (pure Python, also on Windows); gunicorn works too:
    #   gunicorn --workers 4 'demos.flask_demo.app:create_app()'
    trusted_proxy = os.environ.get("TRUSTED_PROXY")
    if trusted_proxy:
        # Behind a reverse proxy at this IP address: believe its X-Forwarded-* headers, so
        # the app sees the public host and scheme that the browser's Origin names.
        waitress.serve(
            app,
            host=host,
            port=int(port),
            trusted_proxy=trusted_proxy,
            trusted_proxy_headers={"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"},
        )
    else:
        # No proxy: waitress believes no X-Forwarded-* header and removes them all.
        waitress.serve(app, host=host, port=int(port))


if __name__ == "__main__":
    main()
