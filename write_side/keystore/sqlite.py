"""The key store on a SQLite file (`<data dir>/keys.db`): the embedded default, without an ORM.

Same table and rules as `SqlKeyStore` (which serves PostgreSQL): a key is made once per
subject, kept apart from the events, and a forgotten subject keeps a row without a key, so its
key is never made again. Every commit is fsynced: an event sealed with a new key must never
outlive its key.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from write_side.domain.personal import KeyStore
from write_side.keystore.sql import KEY_BYTES, SubjectForgotten

_DDL = """
CREATE TABLE IF NOT EXISTS personal_keys (
    subject VARCHAR(36) PRIMARY KEY,
    key BLOB,
    created_at TIMESTAMP NOT NULL,
    forgotten_at TIMESTAMP
)
"""


class SqliteKeyStore(KeyStore):
    """Keys in one SQLite file, shared by the processes of this machine (WAL, fsync on commit)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = str(path)
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._conn().execute(_DDL)

    def __repr__(self) -> str:
        return f"SqliteKeyStore({self._path!r})"

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self._path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def key(self, subject: UUID) -> bytes:
        conn = self._conn()
        # A new subject's key in one durable statement; RETURNING gives nothing when the row
        # was there already (made by another writer, or forgotten), which the read then tells.
        # The threads of this process take turns first: a writer waiting in SQLite's busy
        # handler sleeps 1 to 100 ms a try, one waiting on the lock starts as soon as it is free.
        with self._writing:
            made = conn.execute(
                "INSERT INTO personal_keys (subject, key, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (subject) DO NOTHING RETURNING key",
                (str(subject), os.urandom(KEY_BYTES), datetime.now(UTC).isoformat()),
            ).fetchone()
        if made is not None:
            return bytes(made[0])
        found = conn.execute(
            "SELECT key, forgotten_at FROM personal_keys WHERE subject = ?", (str(subject),)
        ).fetchone()
        key, forgotten_at = found
        if key is None or forgotten_at is not None:
            raise SubjectForgotten(subject)
        return bytes(key)

    def find(self, subject: UUID) -> bytes | None:
        found = (
            self._conn()
            .execute("SELECT key FROM personal_keys WHERE subject = ?", (str(subject),))
            .fetchone()
        )
        return None if found is None or found[0] is None else bytes(found[0])

    def forget(self, subject: UUID) -> bool:
        now = datetime.now(UTC).isoformat()
        conn = self._conn()
        with self._writing:
            return self._forget(conn, subject, now)

    @staticmethod
    def _forget(conn: sqlite3.Connection, subject: UUID, now: str) -> bool:
        conn.execute("BEGIN IMMEDIATE")
        try:
            changed = conn.execute(
                "UPDATE personal_keys SET key = NULL, forgotten_at = ? "
                "WHERE subject = ? AND key IS NOT NULL",
                (now, str(subject)),
            ).rowcount
            if not changed:
                conn.execute(
                    "INSERT OR IGNORE INTO personal_keys (subject, key, created_at, forgotten_at) "
                    "VALUES (?, NULL, ?, ?)",
                    (str(subject), now, now),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return bool(changed)

    def close(self) -> None:
        with self._lock:
            connections, self._all = self._all, []
        for conn in connections:
            conn.close()

    def drop(self) -> None:
        """Delete the table: for tests."""
        self._conn().execute("DROP TABLE IF EXISTS personal_keys")
