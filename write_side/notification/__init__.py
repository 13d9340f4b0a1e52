"""The Notification bounded context: emails to buyers about their orders (stream `email-{id}`),
queued by the order saga and sent by the email sender, never twice (see `sender`)."""

from __future__ import annotations

from write_side.domain import CommandBus
from write_side.notification.commands import (
    DiscardEmail,
    EmailKind,
    QueueEmail,
    RecordEmailSendFailed,
    RecordEmailSent,
    StartEmailSend,
)
from write_side.notification.email import Email, EmailStatus
from write_side.notification.events import (
    EmailContent,
    EmailQueued,
    EmailSendFailed,
    EmailSendStarted,
    EmailSent,
)
from write_side.notification.failed import EventStoreFailedEmails, FailedEmails
from write_side.notification.handlers import HANDLERS
from write_side.notification.rendering import render_body, render_subject
from write_side.notification.sender import EmailSender, SendOutcome, cause_of
from write_side.notification.transport import EmailTransport, OutgoingEmail, TransportError


def process_managers(bus: CommandBus, transport: EmailTransport) -> list[EmailSender]:
    """Notification's process managers: the email sender, on group `email_sender`, with the
    failed emails answered from the event store (for the hourly resend job)."""
    store = bus.services.repository.store
    return [EmailSender(bus, transport, failed=EventStoreFailedEmails(store))]


__all__ = [
    "HANDLERS",
    "DiscardEmail",
    "Email",
    "EmailContent",
    "EmailKind",
    "EmailQueued",
    "EmailSendFailed",
    "EmailSendStarted",
    "EmailSender",
    "EmailSent",
    "EmailStatus",
    "EmailTransport",
    "EventStoreFailedEmails",
    "FailedEmails",
    "OutgoingEmail",
    "QueueEmail",
    "RecordEmailSendFailed",
    "RecordEmailSent",
    "SendOutcome",
    "StartEmailSend",
    "TransportError",
    "cause_of",
    "process_managers",
    "render_body",
    "render_subject",
]
