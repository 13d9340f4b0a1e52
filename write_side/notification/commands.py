"""The commands of Notification: an email is queued by the order saga, then sent (or not) by the
email sender."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from write_side.domain import Command


class EmailKind(StrEnum):
    """What an email tells its buyer about an order."""

    ORDER_RECEIVED = "order_received"
    ORDER_COMPLETED = "order_completed"
    ORDER_CANCELLED = "order_cancelled"


class QueueEmail(Command):
    """Queue an email to a buyer about an order (sent by the order saga).

    `email_id` names the stream `email-{email_id}`; the sender derives it from its cause, so a
    retried request queues the same email once. `to_name` (≤ 100) and `to_address` (≤ 255)
    are the buyer's personal data: sealed under `buyer_id` in the event, left out of the
    command's repr. The subject and the HTML body are rendered from `kind` and the order.
    """

    email_id: UUID
    buyer_id: UUID
    to_name: str = Field(repr=False)
    to_address: str = Field(repr=False)
    kind: EmailKind
    order_id: UUID


__all__ = ["EmailKind", "QueueEmail"]
