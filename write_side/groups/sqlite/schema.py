"""The tables of subscription groups, beside the events in the event store's own SQLite file.

They are created when missing and never touch the store's tables, whose schema stays the
store's business (only parked events go there, appended as the store appends).

- `subscription_groups`: one row per group, with its definition, the last event it took in
  (`cursor`: a commit position, or a revision for a group on a stream), its checkpoint, the
  dispatch counters (`next_seq`, `rotation`) and its running totals.
- `subscription_group_consumers`: the consumers connected now; one that stops refreshing
  `last_seen` (killed, hung) is dropped by the next dispatch.
- `subscription_group_messages`: every event the group has taken in and not finished with,
  keyed by its commit position. A row with a `consumer_id` is in flight until `deadline_us`;
  one without is waiting to be dispatched (a retry, or a replayed parked event). Acknowledging
  deletes the row.
"""

from __future__ import annotations

import sqlite3

DDL = """
CREATE TABLE IF NOT EXISTS subscription_groups (
    id               INTEGER PRIMARY KEY,
    source           TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    filter           TEXT,
    from_end         INTEGER NOT NULL,
    start_position   INTEGER,
    settings         TEXT    NOT NULL,
    cursor           INTEGER NOT NULL,
    checkpoint       INTEGER,
    checkpointed_at  INTEGER NOT NULL,
    uncheckpointed   INTEGER NOT NULL DEFAULT 0,
    next_seq         INTEGER NOT NULL DEFAULT 0,
    rotation         INTEGER NOT NULL DEFAULT 0,
    delivered        INTEGER NOT NULL DEFAULT 0,
    acked            INTEGER NOT NULL DEFAULT 0,
    retried          INTEGER NOT NULL DEFAULT 0,
    skipped          INTEGER NOT NULL DEFAULT 0,
    parked           INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    UNIQUE (source, name)
);
CREATE TABLE IF NOT EXISTS subscription_group_consumers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    buffer_size INTEGER NOT NULL,
    joined_at   INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    delivered   INTEGER NOT NULL DEFAULT 0,
    acked       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS subscription_group_consumers_by_group
    ON subscription_group_consumers (group_id, id);
CREATE TABLE IF NOT EXISTS subscription_group_messages (
    group_id    INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    retry_count INTEGER NOT NULL,
    replayed    INTEGER NOT NULL DEFAULT 0,
    consumer_id INTEGER,
    seq         INTEGER,
    deadline_us INTEGER,
    PRIMARY KEY (group_id, position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subscription_group_messages_by_consumer
    ON subscription_group_messages (consumer_id, seq);
CREATE INDEX IF NOT EXISTS subscription_group_messages_by_deadline
    ON subscription_group_messages (group_id, deadline_us);
"""


def create_group_tables(conn: sqlite3.Connection) -> None:
    """Create the group tables when missing (idempotent; safe against concurrent openers)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in DDL.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
