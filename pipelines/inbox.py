"""The inbox: an exactly-once effect from at-least-once deliveries.

A handler fed by a subscription group may see an event twice (a consumer that crashed before
its acknowledgement, a message timeout). It records the event's id in an inbox table in the
**same transaction** as its own effect, and skips the effect when the id is already there:

    with engine.begin() as conn:
        if inbox.record(conn, delivered.id):
            conn.execute(insert(emails).values(...))
    consumer.ack(delivered)

The record is an `INSERT … ON CONFLICT DO NOTHING RETURNING` on the primary key (handler,
event id), on SQLite and PostgreSQL alike. Two deliveries of one event handled at once both
try the insert; the second waits for the first's transaction and then finds the row, so only
one effect commits (and if the first rolls back, the second goes ahead).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    delete,
    exists,
    select,
)

from read_side.targets.sql import dialect_insert

_NAME = re.compile(r"[a-z][a-z0-9_]*")


class Inbox:
    """Handled event ids of one handler (a group's name, usually), beside its own tables.

    `table` names the inbox table (shared by every handler of a database; each row names its
    handler), `schema` the PostgreSQL schema it lives in.
    """

    def __init__(self, handler: str, *, table: str = "inbox", schema: str | None = None) -> None:
        if not handler:
            raise ValueError("an inbox needs the name of its handler")
        if not _NAME.fullmatch(table):
            raise ValueError(f"table must be snake_case, got {table!r}")
        self.handler = handler
        self.table = Table(
            table,
            MetaData(schema=schema),
            Column("handler", Text, nullable=False),
            Column("event_id", Uuid, nullable=False),
            Column("handled_at", DateTime(timezone=True), nullable=False),
            PrimaryKeyConstraint("handler", "event_id"),
        )

    def create(self, conn: Connection) -> None:
        """Create the inbox table when missing."""
        self.table.create(conn, checkfirst=True)

    def record(self, conn: Connection, event_id: UUID) -> bool:
        """Record `event_id` as handled in `conn`'s transaction: True the first time (apply the
        effect in the same transaction), False when it was already recorded (skip it)."""
        values = {"handler": self.handler, "event_id": event_id, "handled_at": datetime.now(UTC)}
        insert = (
            dialect_insert(conn.dialect.name, self.table)
            .values(values)
            .on_conflict_do_nothing()
            .returning(self.table.c.event_id)
        )
        # RETURNING, not rowcount: psycopg reports no row count for INSERT … ON CONFLICT.
        return conn.execute(insert).first() is not None

    def contains(self, conn: Connection, event_id: UUID) -> bool:
        """Whether `event_id` is recorded as handled."""
        found = select(
            exists().where(self.table.c.handler == self.handler, self.table.c.event_id == event_id)
        )
        return bool(conn.execute(found).scalar())

    def prune(self, conn: Connection, before: datetime) -> int:
        """Forget ids handled before `before` (no redelivery comes that late); how many."""
        gone = delete(self.table).where(
            self.table.c.handler == self.handler, self.table.c.handled_at < before
        )
        return conn.execute(gone).rowcount
