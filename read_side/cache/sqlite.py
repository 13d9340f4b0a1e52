"""The cache port on a SQLite file (`<data dir>/cache.db`): Redis's twin for one machine.

Every local process opens the same file, so the API and the worker share entries, claims,
locks and buckets. Each step that must be atomic runs in one `BEGIN IMMEDIATE` transaction;
times are the wall clock (shared by the processes of one machine). Expired rows are ignored
on read and purged now and then.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from read_side.cache.port import (
    IDEMPOTENCY_TTL,
    Cache,
    Claim,
    ClaimState,
    RateDecision,
    RateLimit,
)

_DDL = """
CREATE TABLE IF NOT EXISTS cache_values (
    key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS cache_tags (
    tag TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tag, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cache_tags_by_key ON cache_tags (key);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY, body_hash TEXT NOT NULL, state TEXT NOT NULL, answer BLOB,
    expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS locks (
    name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS rate_buckets (
    bucket TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at REAL NOT NULL,
    expires_at REAL NOT NULL);
"""

#: One write in this many also purges expired rows.
_PURGE_ONE_IN = 200
#: The values of a JSON array bound as one parameter, for `IN`: any number of them.
_LISTED = "(SELECT value FROM json_each(?))"


def _delete_values(conn: sqlite3.Connection, keys: str, listed: str, now: float) -> int:
    """Delete the values whose key is in `keys` (a subquery of the JSON array `listed`), in one
    statement; how many of them had not expired."""
    deleted = conn.execute(
        f"DELETE FROM cache_values WHERE key IN {keys} RETURNING expires_at", (listed,)
    ).fetchall()
    return sum(1 for (expires_at,) in deleted if expires_at > now)


def _seconds(ttl: timedelta) -> float:
    seconds = ttl.total_seconds()
    if seconds <= 0:
        raise ValueError(f"a TTL must be positive, got {ttl}")
    return seconds


class SqliteCache(Cache):
    """The cache on one SQLite file shared by the processes of this machine."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self._path = str(path)
        Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._conn().executescript(_DDL)

    def __repr__(self) -> str:
        return f"SqliteCache({self._path!r})"

    # -- connections --------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self._path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode = WAL")
            # A cache may lose its last writes in a power cut; it must never be corrupt.
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        if random.randrange(_PURGE_ONE_IN) == 0:
            self.purge_expired()

    def _read(self, sql: str, args: tuple[Any, ...]) -> Any:
        return self._conn().execute(sql, args).fetchone()

    def purge_expired(self) -> int:
        """Delete every expired row; how many."""
        now = self._clock()
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            purged = 0
            for table in ("cache_values", "idempotency", "locks", "rate_buckets"):
                purged += conn.execute(
                    f"DELETE FROM {table} WHERE expires_at <= ?", (now,)
                ).rowcount
            conn.execute("DELETE FROM cache_tags WHERE key NOT IN (SELECT key FROM cache_values)")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return purged

    # -- values -------------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        row = self._read(
            "SELECT value FROM cache_values WHERE key = ? AND expires_at > ?", (key, self._clock())
        )
        return None if row is None else bytes(row[0])

    def set(self, key: str, value: bytes, *, ttl: timedelta, tags: Iterable[str] = ()) -> None:
        expires_at = self._clock() + _seconds(ttl)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO cache_values (key, value, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "expires_at = excluded.expires_at",
                (key, value, expires_at),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO cache_tags (tag, key) VALUES (?, ?)",
                [(tag, key) for tag in tags],
            )

    def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        now, listed = self._clock(), json.dumps(keys)
        with self._write() as conn:
            removed = _delete_values(conn, _LISTED, listed, now)
            conn.execute(f"DELETE FROM cache_tags WHERE key IN {_LISTED}", (listed,))
        return removed

    def evict_tags(self, *tags: str) -> int:
        if not tags:
            return 0
        now, listed = self._clock(), json.dumps(tags)
        with self._write() as conn:
            tagged = f"(SELECT key FROM cache_tags WHERE tag IN {_LISTED})"
            removed = _delete_values(conn, tagged, listed, now)
            conn.execute(f"DELETE FROM cache_tags WHERE tag IN {_LISTED}", (listed,))
        return removed

    # -- idempotency --------------------------------------------------------------------------

    def claim_idempotency(
        self, key: str, body_hash: str, *, ttl: timedelta = IDEMPOTENCY_TTL
    ) -> Claim:
        now = self._clock()
        with self._write() as conn:
            row = conn.execute(
                "SELECT body_hash, state, answer FROM idempotency WHERE key = ? AND expires_at > ?",
                (key, now),
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT OR REPLACE INTO idempotency "
                    "(key, body_hash, state, answer, expires_at) "
                    "VALUES (?, ?, 'in_progress', NULL, ?)",
                    (key, body_hash, now + _seconds(ttl)),
                )
                return Claim(ClaimState.CLAIMED)
        stored_hash, state, answer = row
        if stored_hash != body_hash:
            return Claim(ClaimState.MISMATCH)
        if state == "completed":
            return Claim(ClaimState.COMPLETED, bytes(answer))
        return Claim(ClaimState.IN_PROGRESS)

    def complete_idempotency(
        self, key: str, answer: bytes, *, ttl: timedelta = IDEMPOTENCY_TTL
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE idempotency SET state = 'completed', answer = ?, expires_at = ? "
                "WHERE key = ?",
                (answer, self._clock() + _seconds(ttl), key),
            )

    def abandon_idempotency(self, key: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM idempotency WHERE key = ? AND state = 'in_progress'", (key,))

    # -- locks --------------------------------------------------------------------------------

    def acquire_lock(self, name: str, owner: str, *, ttl: timedelta) -> bool:
        now = self._clock()
        with self._write() as conn:
            row = conn.execute(
                "SELECT owner FROM locks WHERE name = ? AND expires_at > ?", (name, now)
            ).fetchone()
            if row is not None:
                return bool(row[0] == owner)
            conn.execute(
                "INSERT OR REPLACE INTO locks (name, owner, expires_at) VALUES (?, ?, ?)",
                (name, owner, now + _seconds(ttl)),
            )
            return True

    def release_lock(self, name: str, owner: str) -> bool:
        with self._write() as conn:
            return bool(
                conn.execute(
                    "DELETE FROM locks WHERE name = ? AND owner = ? AND expires_at > ?",
                    (name, owner, self._clock()),
                ).rowcount
            )

    # -- rate limits --------------------------------------------------------------------------

    def take_token(self, bucket: str, limit: RateLimit) -> RateDecision:
        now = self._clock()
        rate = limit.refill_per_s
        with self._write() as conn:
            row = conn.execute(
                "SELECT tokens, updated_at FROM rate_buckets WHERE bucket = ? AND expires_at > ?",
                (bucket, now),
            ).fetchone()
            tokens = float(limit.capacity)
            if row is not None:
                tokens = min(limit.capacity, row[0] + max(0.0, now - row[1]) * rate)
            allowed = tokens >= 1
            wait = 0.0
            if allowed:
                tokens -= 1
            else:
                wait = (1 - tokens) / rate
            conn.execute(
                "INSERT OR REPLACE INTO rate_buckets (bucket, tokens, updated_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (bucket, tokens, now, now + limit.capacity / rate + 1),
            )
        return RateDecision(allowed, int(tokens), wait)

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
