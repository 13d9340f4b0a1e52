"""`event_counts`: how many events of each type each stream category holds (SQL target).

An operator's first look at the store, and the smallest real projection: one upsert per
(category, type) per batch, counted in Python first, so a batch of 2,000 events is a handful
of statements.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import ClassVar

from sqlalchemy import text

from read_side.projection import Projection
from read_side.targets.sql import SqlTx
from write_side.eventstore import EventFilter, RecordedEvent


def category(stream: str) -> str:
    """The part of a stream name before its first dash (`book-42` -> `book`)."""
    return stream.split("-", 1)[0]


class EventCounts(Projection[SqlTx]):
    """Counts per stream category and event type, with the last position and time of each."""

    name: ClassVar[str] = "event_counts"
    handles: ClassVar[EventFilter] = EventFilter("stream_name", "^")  # every user stream
    target_kind: ClassVar[str] = "sql"

    def create(self, tx: SqlTx, build: int) -> None:
        table = tx.quote(tx.table(self.name, build))
        tx.connection.execute(
            text(
                f"CREATE TABLE {table} ("
                "category VARCHAR(200) NOT NULL, event_type VARCHAR(200) NOT NULL, "
                "events BIGINT NOT NULL, last_position BIGINT NOT NULL, "
                "PRIMARY KEY (category, event_type))"
            )
        )

    def apply(self, events: Sequence[RecordedEvent], tx: SqlTx, build: int) -> None:
        counted = Counter((category(e.stream), e.type) for e in events)
        last = {(category(e.stream), e.type): e.position for e in events}
        table = tx.quote(tx.table(self.name, build))
        tx.connection.execute(
            text(
                f"INSERT INTO {table} AS t (category, event_type, events, last_position) "
                "VALUES (:category, :event_type, :events, :last_position) "
                "ON CONFLICT (category, event_type) DO UPDATE SET "
                "events = t.events + excluded.events, last_position = excluded.last_position"
            ),
            [
                {"category": c, "event_type": t, "events": n, "last_position": last[(c, t)]}
                for (c, t), n in counted.items()
            ],
        )
