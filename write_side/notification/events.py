"""Events of Notification: an email queued, the start of each send attempt, and its outcome.

What an email says to whom is personal data: the recipient's name and address and the HTML
body (which greets the buyer by name) are written sealed under the buyer's key, so forgetting
the buyer erases them here too. The subject names only the order and stays in the clear.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict

from write_side.domain import Sealed
from write_side.envelope import DomainEvent
from write_side.envelope.fields import UtcDateTime
from write_side.notification.commands import EmailKind
from write_side.registry import REGISTRY


class EmailContent(BaseModel):
    """Who an email goes to and what it says (personal data: only ever stored sealed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    to_name: str
    to_address: str
    html_body: str


@REGISTRY.event("EmailQueued")
class EmailQueued(DomainEvent):
    """An email to a buyer about an order was queued; the email sender sends it."""

    email_id: UUID
    buyer_id: UUID
    order_id: UUID
    kind: EmailKind
    subject: str
    content: Sealed[EmailContent]


@REGISTRY.event("EmailSendStarted")
class EmailSendStarted(DomainEvent):
    """A sender claimed send attempt `attempt` (1-based, counted over the email's life).

    **Decision**: DOMAIN.md names only the outcomes; this claim is written *before* the email
    is handed to a transport, so that no second sender (a redelivery, a competing consumer,
    the resend job) ever hands it over again while the outcome of this attempt is unknown.
    """

    attempt: int
    started_at: UtcDateTime


@REGISTRY.event("EmailSent")
class EmailSent(DomainEvent):
    """The transport accepted the email: `transport_id` is its file name or SMTP Message-ID."""

    sent_at: UtcDateTime
    transport_id: str
    attempt: int


@REGISTRY.event("EmailSendFailed")
class EmailSendFailed(DomainEvent):
    """Send attempt `attempt` failed with `error`.

    `final` says no sender may try again: the recipient was erased, or the attempt's outcome
    is unknown (the sender stopped while handing the email to a transport that cannot tell
    whether it got it), so sending again could send it twice.
    """

    attempt: int
    error: str
    final: bool = False


__all__ = ["EmailContent", "EmailQueued", "EmailSendFailed", "EmailSendStarted", "EmailSent"]
