"""This process's id, kept current across ``fork()`` without a system call per request.

The background threads (the Redis follower, the JWKS fetcher) do not survive a fork: a
pre-fork server's worker must start its own. Comparing a saved pid with :attr:`ThisProcess.pid`
tells a worker that it was forked; ``os.getpid()`` would cost a system call (about 150 ns)
on every request, so :class:`PidCheck` makes a real one only every ``PID_CHECK_EVERY`` calls,
for servers that fork from C without Python's at-fork handlers (uWSGI without lazy-apps).
"""

from __future__ import annotations

import os
import threading

PID_CHECK_EVERY = 256  # lookups between real os.getpid() calls


class ThisProcess:
    """The current pid, and a lock for starting this process's threads (both reset at fork)."""

    pid = os.getpid()
    start_lock = threading.Lock()


class PidCheck:
    """Whether a thread started in process ``pid`` must be started again in this one.

    On the request path, inline and without a call (a call costs more than the lookup)::

        check.left -= 1
        if (self._pid != ThisProcess.pid or check.left < 0) and check.moved(self._pid): ...
    """

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = 0

    def moved(self, pid: int | None) -> bool:
        """True at first use (``pid`` None) and in a forked child: seen at once after a fork
        Python made, within ``PID_CHECK_EVERY`` calls after one it did not see."""
        self.left = PID_CHECK_EVERY
        ThisProcess.pid = os.getpid()
        return pid != ThisProcess.pid


def _after_fork_in_child() -> None:
    ThisProcess.pid = os.getpid()
    ThisProcess.start_lock = threading.Lock()  # another thread may have held the parent's


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
