"""`emails`: each email's kind, order, subject and sending status (SQL target).

One row per email (stream `email-{id}`), folded in Python per batch as the Email aggregate
evolves: queued, sending (an attempt claimed), sent, or failed (for good when `final`). The
recipient and body are personal data, sealed in the events; this model never opens them, so
it holds nothing to erase when a buyer is forgotten. The subject names only the order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    Table,
    Text,
    Uuid,
)

from read_side.projections.ordering_sql import RowPerStream, occurred_at, table_of
from read_side.targets.sql import UtcDateTime
from write_side.eventstore import EventFilter, RecordedEvent
from write_side.notification import (
    EmailQueued,
    EmailSendFailed,
    EmailSendStarted,
    EmailSent,
    EmailStatus,
)
from write_side.registry import REGISTRY

NAME = "emails"
EMAIL_EVENTS = (EmailQueued, EmailSendStarted, EmailSent, EmailSendFailed)


def email_columns() -> list[Any]:
    """The columns of the emails table (and of its view)."""
    return [
        Column("email_id", Uuid, primary_key=True),
        Column("buyer_id", Uuid, nullable=False),
        Column("order_id", Uuid, nullable=False),
        Column("kind", Text, nullable=False),
        Column("subject", Text, nullable=False),
        Column("status", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("final", Boolean, nullable=False),
        Column("last_error", Text),
        Column("transport_id", Text),
        Column("queued_at", UtcDateTime, nullable=False),
        Column("sending_since", UtcDateTime),
        Column("sent_at", UtcDateTime),
        Column("updated_at", UtcDateTime, nullable=False),
        # The `$all` position of EmailQueued: the order emails were queued in.
        Column("queued_position", BigInteger, nullable=False),
        Column("version", Integer, nullable=False),
    ]


#: What queries read: the live build through the stable view.
EMAILS = table_of(NAME, email_columns)


class EmailsProjection(RowPerStream):
    """The sending status of every email (no personal data)."""

    name: ClassVar[str] = NAME
    handles: ClassVar[EventFilter] = EventFilter.event_types(*(e.event_type for e in EMAIL_EVENTS))

    def __init__(self) -> None:
        super().__init__(email_columns)

    def indexes(self, table: Table) -> Mapping[str, Sequence[Column[Any]]]:
        return {
            "by_order": (table.c.order_id, table.c.queued_position),
            "by_status": (table.c.status, table.c.queued_position),
        }

    def fold(
        self, rows: dict[UUID, dict[str, Any]], email_id: UUID, recorded: RecordedEvent
    ) -> None:
        stored = REGISTRY.decode(recorded)
        event, at = stored.event, occurred_at(stored)
        if isinstance(event, EmailQueued):
            rows[email_id] = {
                "email_id": email_id,
                "buyer_id": event.buyer_id,
                "order_id": event.order_id,
                "kind": event.kind.value,
                "subject": event.subject,
                "status": EmailStatus.QUEUED.value,
                "attempts": 0,
                "final": False,
                "last_error": None,
                "transport_id": None,
                "queued_at": at,
                "sending_since": None,
                "sent_at": None,
                "queued_position": recorded.position,
            }
        row = rows.get(email_id)
        if row is None:
            raise LookupError(f"{recorded.type} of email {email_id}, which was never queued")
        if isinstance(event, EmailSendStarted):
            row.update(
                status=EmailStatus.SENDING.value,
                attempts=event.attempt,
                sending_since=event.started_at,
            )
        elif isinstance(event, EmailSent):
            row.update(
                status=EmailStatus.SENT.value,
                sent_at=event.sent_at,
                transport_id=event.transport_id,
                sending_since=None,
            )
        elif isinstance(event, EmailSendFailed):
            row.update(
                status=EmailStatus.FAILED.value,
                last_error=event.error,
                final=event.final,
                sending_since=None,
            )
        row.update(updated_at=at, version=recorded.revision)
