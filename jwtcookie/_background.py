"""The background threads of the Redis store and the JWKS keyring, one per process.

A thread does not survive ``fork()``: a pre-fork server's worker must start its own.
Comparing a saved pid with :attr:`ThisProcess.pid`, kept current by an at-fork handler, tells
a worker that it was forked; ``os.getpid()`` would cost a system call (about 150 ns) on every
request, so :class:`ProcessThread` makes a real one only every ``PID_CHECK_EVERY`` lookups.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

PID_CHECK_EVERY = 256  # lookups between real os.getpid() calls


class ThisProcess:
    """The current pid, and a lock for starting this process's threads (both reset at fork)."""

    pid = os.getpid()
    start_lock = threading.Lock()


class ProcessThread:
    """One background thread per process for its owner (the Redis store's follower, a JWKS
    keyring's fetcher): started at first use, and again in a forked child, where the
    parent's thread does not run.

    The owner checks on its request path, inline and without a call (a call costs more than
    the lookup it guards)::

        thread.lookups_until_pid_check -= 1
        if thread.pid != ThisProcess.pid or thread.lookups_until_pid_check < 0:
            thread.check()
    """

    __slots__ = ("_home", "_start_here", "closed", "lookups_until_pid_check", "pid")

    def __init__(self, start_here: Callable[[bool, bool], None]) -> None:
        """``start_here(forked, wait)`` starts the owner's thread in this process; ``forked``
        says that the owner was made in another one (its locks and events are not this
        one's), ``wait`` that the caller may wait for the thread's first work."""
        self._start_here = start_here
        self._home = os.getpid()
        self.pid: int | None = None
        self.lookups_until_pid_check = 0
        self.closed = False

    def check(self) -> None:
        """The slow path: a real ``os.getpid()``, at most every ``PID_CHECK_EVERY`` lookups,
        for servers that fork from C without Python's at-fork handlers (uWSGI)."""
        self.lookups_until_pid_check = PID_CHECK_EVERY
        ThisProcess.pid = os.getpid()
        if self.pid != ThisProcess.pid:
            self.ensure()

    def ensure(self, *, wait: bool = True) -> bool:
        """Start the thread here unless it runs here already (or the owner is closed);
        whether it started now. Other callers meanwhile wait until it has."""
        pid = ThisProcess.pid = os.getpid()
        if self.pid == pid or self.closed:
            return False
        with ThisProcess.start_lock:
            if self.pid == pid:
                return False
            self._start_here((self.pid or self._home) != pid, wait)
            self.pid = pid
            return True


def _after_fork_in_child() -> None:
    ThisProcess.pid = os.getpid()
    ThisProcess.start_lock = threading.Lock()  # another thread may have held the parent's


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
