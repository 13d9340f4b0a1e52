"""`feedbacks`: every counted feedback, per book, for the book's reviews page (SQL target).

The reviewer's names are personal data: the table keeps them **sealed** (the ciphertext of the
event, under the key of the feedback), and the query opens them with the key store. So
forgetting a reviewer's key erases the names from this model at once, with no event and no
rebuild, and no query table ever holds them in the clear. A deleted or rejected feedback
leaves the list but keeps its row as a tombstone (`active` false, comment and names wiped), so
a replayed event changes nothing, even a FeedbackCreated delivered again on its own.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, Table, Text, Uuid

from read_side.projection import Projection
from read_side.projections.catalog_events import decode, of_types
from read_side.targets.sql import SqlTx, UtcDateTime, dialect_insert
from write_side.eventstore import EventFilter, RecordedEvent
from write_side.rating.events import FeedbackCreated, FeedbackDeleted, FeedbackRejected


def feedback_table(name: str) -> Table:
    """The table (a build's, or the stable view `feedbacks`) of the feedbacks."""
    return Table(
        name,
        MetaData(),
        Column("id", Uuid, primary_key=True),
        Column("book_id", Uuid, nullable=False),
        Column("reviewer_subject", Uuid, nullable=False),
        Column("reviewer_sealed", Text, nullable=False),
        Column("rating", Integer, nullable=False),
        Column("comment", Text, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("position", BigInteger, nullable=False),
        Column("active", Boolean, nullable=False),
    )


#: The Table a batch writes, made once per build (`create` makes its own: creating the indexes
#: attaches them); a new Table per batch would make SQLAlchemy compile its statements again.
_batch_table = functools.cache(feedback_table)


class FeedbacksProjection(Projection[SqlTx]):
    """The feedbacks of every book, with reviewer names sealed, until deleted or rejected."""

    name: ClassVar[str] = "feedbacks"
    handles: ClassVar[EventFilter] = of_types(FeedbackCreated, FeedbackDeleted, FeedbackRejected)
    target_kind: ClassVar[str] = "sql"

    def create(self, tx: SqlTx, build: int) -> None:
        table = feedback_table(tx.table(self.name, build))
        table.create(tx.connection)
        by = f"{table.name}_by_book"
        date = (table.c.book_id, table.c.active, table.c.created_at, table.c.position)
        Index(f"{by}_date", *date).create(tx.connection)
        Index(f"{by}_rating", table.c.book_id, table.c.active, table.c.rating).create(tx.connection)

    def apply(self, events: Sequence[RecordedEvent], tx: SqlTx, build: int) -> None:
        table = _batch_table(tx.table(self.name, build))
        final: dict[UUID, dict[str, Any]] = {}
        for item in decode(events):
            event = item.event
            if isinstance(event, FeedbackCreated):
                if event.reviewer.ciphertext is None:
                    raise ValueError(f"feedback {event.feedback_id}: reviewer is not sealed")
                final[event.feedback_id] = {
                    "id": event.feedback_id,
                    "book_id": event.book_id,
                    "reviewer_subject": event.reviewer.subject,
                    "reviewer_sealed": event.reviewer.ciphertext,
                    "rating": event.rating,
                    "comment": event.comment,
                    "created_at": item.occurred_at,
                    "position": item.position,
                    "active": True,
                }
            elif item.stream_id in final:  # created in this batch: keep its time and place
                final[item.stream_id].update(reviewer_sealed="", comment="", active=False)
            elif item.stream_id is not None:
                assert isinstance(event, FeedbackDeleted | FeedbackRejected)
                final[item.stream_id] = {
                    "id": item.stream_id,
                    "book_id": event.book_id,
                    "reviewer_subject": item.stream_id,
                    "reviewer_sealed": "",
                    "rating": event.rating,
                    "comment": "",
                    "created_at": item.occurred_at,
                    "position": item.position,
                    "active": False,
                }
        conn = tx.connection
        created = [row for row in final.values() if row["active"]]
        if created:
            stmt = dialect_insert(tx.dialect, table).on_conflict_do_nothing(
                index_elements=[table.c.id]
            )
            conn.execute(stmt, created)
        removed = [row for row in final.values() if not row["active"]]
        if removed:
            upsert = dialect_insert(tx.dialect, table)
            wiped = ("reviewer_sealed", "comment", "active")
            upsert = upsert.on_conflict_do_update(
                index_elements=[table.c.id], set_={c: upsert.excluded[c] for c in wiped}
            )
            conn.execute(upsert, removed)
