"""The users table, in SQLite through the standard library's sqlite3.

Each call opens its own short-lived connection: simple, safe across threads and worker
processes, and cheap for SQLite. For a bigger app, swap this module for your own database
layer; the views only need `init_db`, `insert_user` and `find_user`.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

# How long a connection waits for another writer (another thread or worker) before giving up.
BUSY_TIMEOUT_SECONDS = 10.0
INIT_ATTEMPTS = 20  # about ten seconds of retries at start-up

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,  -- the constraint, not a SELECT first, keeps names unique
    password_hash TEXT NOT NULL
)
"""


def connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
    connection.row_factory = sqlite3.Row
    return connection


def init_db(path: str) -> None:
    """Create the table if it is missing; safe when several workers start at once."""
    with closing(connect(path)) as connection:
        # WAL lets readers and one writer work at the same time; the setting is kept in the file.
        # Switching a brand-new file to WAL skips the busy timeout when another worker is doing
        # the same, so retry a bounded number of times.
        for attempt in range(INIT_ATTEMPTS):
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError:
                if attempt == INIT_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        connection.execute(SCHEMA)
        connection.commit()


def insert_user(path: str, username: str, password_hash: bytes) -> str | None:
    """Store a new user and return its id, or None when the username is taken."""
    with closing(connect(path)) as connection:
        try:
            with connection:  # commits before returning, so a 201 survives a crash
                cursor = connection.execute(
                    "INSERT INTO users (username, password_hash) VALUES (?, ?)",
                    (username, password_hash.decode("ascii")),
                )
        except sqlite3.IntegrityError:  # UNIQUE(username): someone registered it first
            return None
        return str(cursor.lastrowid)


def find_user(path: str, username: str) -> sqlite3.Row | None:
    """The row (id, username, password_hash) for a username, or None."""
    with closing(connect(path)) as connection:
        row: sqlite3.Row | None = connection.execute(
            "SELECT id, username, password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()
        return row
