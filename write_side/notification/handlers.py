"""Notification's command handlers: plain functions of the command and the services."""

from __future__ import annotations

from write_side.domain import Command, CommandResult, Handler, Services
from write_side.envelope import DomainEvent
from write_side.notification.commands import (
    DiscardEmail,
    QueueEmail,
    RecordEmailSendFailed,
    RecordEmailSent,
    StartEmailSend,
)
from write_side.notification.email import Email, check_recipient
from write_side.notification.events import EmailContent
from write_side.notification.rendering import render_body, render_subject
from write_side.ordering import Order


def queue_email(command: QueueEmail, services: Services) -> CommandResult:
    """Queue an email about an order, rendered from the order's lines and total; nothing when
    the same email (id, buyer, order, kind) is queued already."""
    repository = services.repository

    def decide(email: Email) -> list[DomainEvent]:
        check_recipient(command.to_name, command.to_address)
        order = repository.load(Order, command.order_id)
        order.require_exists()
        content = EmailContent(
            to_name=command.to_name,
            to_address=command.to_address,
            html_body=render_body(
                command.kind, command.to_name, command.order_id, order.items, order.total
            ),
        )
        subject = render_subject(command.kind, command.order_id)
        return email.queue(command.buyer_id, command.order_id, command.kind, subject, content)

    return repository.execute(Email, command.email_id, command, decide)


def start_email_send(command: StartEmailSend, services: Services) -> CommandResult:
    """Claim the next send attempt of an email."""
    return services.repository.execute(
        Email,
        command.email_id,
        command,
        lambda email: email.start_send(command.attempt, services.clock.now()),
    )


def record_email_sent(command: RecordEmailSent, services: Services) -> CommandResult:
    """Record that the transport accepted the email."""
    return services.repository.execute(
        Email,
        command.email_id,
        command,
        lambda email: email.record_sent(
            command.attempt, command.transport_id, services.clock.now()
        ),
    )


def record_email_send_failed(command: RecordEmailSendFailed, services: Services) -> CommandResult:
    """Record that a send attempt failed."""
    return services.repository.execute(
        Email,
        command.email_id,
        command,
        lambda email: email.record_failed(command.attempt, command.error, final=command.final),
    )


def discard_email(command: DiscardEmail, services: Services) -> CommandResult:
    """Give an unsent email up for good."""
    return services.repository.execute(
        Email, command.email_id, command, lambda email: email.discard(command.reason)
    )


#: Notification's commands and their handlers, for the command bus.
HANDLERS: dict[type[Command], Handler] = {
    QueueEmail: queue_email,
    StartEmailSend: start_email_send,
    RecordEmailSent: record_email_sent,
    RecordEmailSendFailed: record_email_send_failed,
    DiscardEmail: discard_email,
}

__all__ = ["HANDLERS"]
