"""This process's id, kept current across ``fork()`` without a system call per request.

The background threads (the Redis follower, the JWKS fetcher) do not survive a fork: a
pre-fork server's worker must start its own. Comparing a saved pid with :attr:`ThisProcess.pid`
tells a worker that it was forked; ``os.getpid()`` would cost a system call (about 150 ns)
on every request.
"""

from __future__ import annotations

import os
import threading


class ThisProcess:
    """The current pid, and a lock for starting this process's threads (both reset at fork)."""

    pid = os.getpid()
    start_lock = threading.Lock()


def _after_fork_in_child() -> None:
    ThisProcess.pid = os.getpid()
    ThisProcess.start_lock = threading.Lock()  # another thread may have held the parent's


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
