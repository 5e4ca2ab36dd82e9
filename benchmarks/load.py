"""A bounded load generator: ``python -m benchmarks.load PORT REQUESTS MODE``.

One keep-alive HTTP/1.1 connection, requests sent one after another, a fixed count. MODE
is ``valid`` (the same valid token every time), ``fresh`` (a distinct, never seen token
per request, minted before the first request) or ``none`` (no cookie). Prints the number
of responses that were not ``200``, or exits non-zero when the connection fails.
"""

from __future__ import annotations

import http.client
import sys

from benchmarks import apps


def main(argv: list[str]) -> int:
    port, requests, mode = int(argv[0]), int(argv[1]), argv[2]
    if mode == "fresh":
        headers = [apps.cookie_header(apps.token(user=i)) for i in range(requests)]
    elif mode == "valid":
        headers = [apps.cookie_header(apps.token())] * requests
    else:
        headers = [apps.cookie_header(None)] * requests
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    failures = 0
    for header in headers:
        connection.request("GET", "/", headers={"Cookie": header})
        response = connection.getresponse()
        response.read()
        failures += response.status != 200
    connection.close()
    print(failures)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
