"""gunicorn's settings for the WSGI verifier: ``gunicorn -c demos/scale_out/gunicorn_conf.py``.

Two worker processes forked from a master that imported the app once (``preload_app``). The
keyring and the revocation store made in the master start their own thread in each worker:
``post_fork`` starts them before the worker serves, so its first request does not wait for
the first JWKS fetch and Redis load (without it they start on first use).
"""

from __future__ import annotations

from typing import Any

workers = 2
preload_app = True
control_socket_disable = True  # gunicorn 25+: no control socket under ~/.gunicorn (a demo)


def post_fork(server: Any, worker: Any) -> None:
    from demos.scale_out.wsgi_verifier import keys, store

    keys.start()
    store.start()
