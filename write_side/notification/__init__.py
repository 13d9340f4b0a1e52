"""The Notification bounded context: emails to buyers about their orders (stream `email-{id}`),
queued by the order saga and sent by the email sender, never twice (see `sender`); failed
ones are sent again by the hourly job `resend_failed_emails` (registered in the scheduler's
`JOBS` on import)."""

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
from write_side.notification.resend import (
    RESEND_EVERY,
    RESEND_JOB,
    email_sender,
    failed_emails,
    resend_failed_emails,
)
from write_side.notification.sender import EmailSender, SendOutcome, cause_of
from write_side.notification.transport import EmailTransport, OutgoingEmail, TransportError


def process_managers(bus: CommandBus, transport: EmailTransport | None = None) -> list[EmailSender]:
    """Notification's process managers: the email sender (group `email_sender`) over
    `transport`, by default the `EmailTransport` wired among the bus's ports. (The hourly
    resend is a recurring job, run by the scheduler's `recurring_jobs`.)"""
    return [email_sender(bus, transport)]


__all__ = [
    "HANDLERS",
    "RESEND_EVERY",
    "RESEND_JOB",
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
    "email_sender",
    "failed_emails",
    "process_managers",
    "render_body",
    "render_subject",
    "resend_failed_emails",
]
