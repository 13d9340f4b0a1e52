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


class StartEmailSend(Command):
    """Claim send attempt `attempt` of an email before handing it to a transport (sent by the
    email sender): refused while another attempt is under way or once the email is sent."""

    email_id: UUID
    attempt: int = Field(ge=1)


class RecordEmailSent(Command):
    """The transport accepted the email of the claimed attempt `attempt`."""

    email_id: UUID
    attempt: int = Field(ge=1)
    transport_id: str


class RecordEmailSendFailed(Command):
    """The claimed attempt `attempt` failed (`final`: no sender may try again)."""

    email_id: UUID
    attempt: int = Field(ge=1)
    error: str
    final: bool = False


class DiscardEmail(Command):
    """Give an unsent email up for good without trying to send it (its recipient was erased)."""

    email_id: UUID
    reason: str


__all__ = [
    "DiscardEmail",
    "EmailKind",
    "QueueEmail",
    "RecordEmailSendFailed",
    "RecordEmailSent",
    "StartEmailSend",
]
