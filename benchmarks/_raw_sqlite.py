"""The raw floor's table: events as plain `sqlite3` rows, with the uniqueness of a stream's
revisions as the only rule (what `raw_sqlite` sides insert and read)."""

import sqlite3
from pathlib import Path

RAW_DDL = """
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    id       BLOB    NOT NULL,
    stream   TEXT    NOT NULL,
    revision INTEGER NOT NULL,
    type     TEXT    NOT NULL,
    data     BLOB    NOT NULL,
    metadata BLOB    NOT NULL,
    UNIQUE (stream, revision)
)"""
RAW_INSERT = "INSERT INTO events (id, stream, revision, type, data, metadata) VALUES (?,?,?,?,?,?)"
RAW_SELECT = "SELECT position, id, stream, revision, type, data, metadata FROM events"


def connect_durable(path: Path) -> sqlite3.Connection:
    """A plain autocommit connection at our durability: WAL, fsync on every commit."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=60, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn
