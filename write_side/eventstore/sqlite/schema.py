"""The SQLite event store's tables and how its connections are opened."""

from __future__ import annotations

import sqlite3
from typing import Literal

Synchronous = Literal["FULL", "NORMAL", "OFF"]

SCHEMA_VERSION = 1

# `streams` names each stream once and holds the metadata fields that stream reads obey
# (denormalised from the `$$<stream>` metadata stream so a read needs one row, not a scan). It is
# written when a stream is created or its metadata changes, not on every append: a stream's last
# revision is the top of `events_by_stream`, one index probe away.
# `events.position` is the commit position in `$all`: SQLite hands out max + 1 under the write
# lock, so positions follow commit order and a catch-up reader never skips an event. Event ids
# have no index of their own: an append checks ids only within its stream (see WriteTx).
# `change_signals` counts commits that give other processes' waiters work without adding events
# (see `notifier.signal_change`).
DDL = """
CREATE TABLE IF NOT EXISTS streams (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    tombstoned      INTEGER NOT NULL DEFAULT 0,
    truncate_before INTEGER,
    max_count       INTEGER,
    max_age         INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    position     INTEGER PRIMARY KEY,
    stream_id    INTEGER NOT NULL REFERENCES streams (id),
    revision     INTEGER NOT NULL,
    id           BLOB    NOT NULL,
    type         TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    metadata     BLOB    NOT NULL,
    content_type TEXT    NOT NULL,
    recorded_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream_id, revision);
CREATE TABLE IF NOT EXISTS change_signals (
    channel TEXT    PRIMARY KEY,
    counter INTEGER NOT NULL
);
"""

EVENT_COLUMNS = (
    "e.id, e.type, e.data, e.metadata, e.content_type, s.name, e.revision, e.position, "
    "e.recorded_at"
)


def connect(database: str, *, synchronous: Synchronous, uri: bool = False) -> sqlite3.Connection:
    """Open a connection in autocommit mode (transactions are explicit), WAL for files."""
    conn = sqlite3.connect(
        database, uri=uri, timeout=60.0, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = OFF")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the tables when missing and refuse a file written by a newer schema."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        (found,) = conn.execute("PRAGMA user_version").fetchone()
        if found > SCHEMA_VERSION:
            raise RuntimeError(
                f"event store schema version {found} is newer than this code ({SCHEMA_VERSION})"
            )
        for statement in DDL.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
