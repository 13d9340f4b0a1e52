"""The key store on a SQLite file (`<data dir>/keys.db`): the embedded default, without an ORM.

Same table and rules as `SqlKeyStore` (which serves PostgreSQL): a key is made once per
subject, kept apart from the events, and a forgotten subject keeps a row without a key, so its
key is never made again. Every commit is fsynced: an event sealed with a new key must never
outlive its key (`synchronous` lowers that, for throwaway data only, as the event store's
does). The keys asked for by several threads at once are made in one transaction and one fsync
(the event store's group commit), so concurrent commands do not queue for the disk.
"""

from __future__ import annotations

import os
import sqlite3
import ssl
import threading
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from write_side.domain.personal import KeyStore
from write_side.eventstore.sqlite.group_commit import GroupCommitter
from write_side.eventstore.sqlite.schema import Synchronous, connect
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

    def __init__(self, path: str | os.PathLike[str], *, synchronous: Synchronous = "FULL") -> None:
        self._path = str(path)
        self._synchronous = synchronous
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._conn().execute(_DDL)
        # Used by the committer's leader only, one thread at a time.
        self._writer = self._connect()
        self._committer: GroupCommitter[_KeyTx] = GroupCommitter(
            lambda: nullcontext(self._writer),
            _KeyTx,
            on_commit=lambda: None,
            rejections=(),
            translate=lambda error: error,
        )

    def __repr__(self) -> str:
        return f"SqliteKeyStore({self._path!r})"

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _connect(self) -> sqlite3.Connection:
        conn = connect(self._path, synchronous=self._synchronous)  # as the event store's
        with self._lock:
            self._all.append(conn)
        return conn

    def key(self, subject: UUID) -> bytes:
        # A new subject's key in one durable statement; RETURNING gives nothing when the row
        # was there already (made by another writer, or forgotten), which the read then tells.
        # The threads of this process write through the group committer, sharing commits
        # rather than each waiting in SQLite's busy handler (1 to 100 ms a try). The key comes
        # from OpenSSL's generator (see `Crypto._seal_one` for why not os.urandom).
        row = (str(subject), ssl.RAND_bytes(KEY_BYTES), datetime.now(UTC).isoformat())

        def insert(conn: sqlite3.Connection) -> bytes:
            made = conn.execute(
                "INSERT INTO personal_keys (subject, key, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (subject) DO NOTHING RETURNING key",
                row,
            ).fetchone()
            return b"" if made is None else bytes(made[0])  # b"": not made (keys are 32 bytes)

        made = self._committer.run(lambda tx: insert(tx.conn), alone=insert)
        if made:
            return made
        key, forgotten_at = (
            self._conn()
            .execute(
                "SELECT key, forgotten_at FROM personal_keys WHERE subject = ?", (str(subject),)
            )
            .fetchone()
        )
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
        return self._committer.run(lambda tx: _forget(tx.conn, subject, now))

    def close(self) -> None:
        with self._lock:
            connections, self._all = self._all, []
        for conn in connections:
            conn.close()

    def drop(self) -> None:
        """Delete the table: for tests."""
        self._conn().execute("DROP TABLE IF EXISTS personal_keys")


class _KeyTx:
    """A key store transaction for the group committer: its works write straight away."""

    buffered = 0

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def prefetch(self, names: Iterable[str]) -> None:
        """Nothing to read ahead."""

    def flush(self) -> None:
        """Nothing buffered."""


def _forget(conn: sqlite3.Connection, subject: UUID, now: str) -> bool:
    """Delete the subject's key, or record it as forgotten when it had none (within a
    transaction: the committer's)."""
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
    return bool(changed)
