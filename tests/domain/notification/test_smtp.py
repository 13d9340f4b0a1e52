"""The email sender over SMTP, against a real SMTP server (aiosmtpd) started by the test: the
email arrives once; refusals are retried with backoff; a connection broken after the message
went out is in doubt, and the email is never sent again."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default
from typing import Any
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller

from tests.domain.notification.conftest import Mail
from tests.domain.notification.test_sender import job_run, queued_event, types
from write_side.domain import ManualClock
from write_side.mailer import SmtpTransport
from write_side.notification import (
    EmailSender,
    EmailSendFailed,
    EmailStatus,
    EventStoreFailedEmails,
    SendOutcome,
)


@dataclass
class Mailbox:
    """An aiosmtpd handler: keeps what it accepts; refuses the first `refuse` messages (451);
    with `hang_up`, takes the message and then drops the connection instead of answering."""

    url: str = ""
    refuse: int = 0
    hang_up: bool = False
    received: list[Any] = field(default_factory=list)
    refused: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refused < self.refuse:
            self.refused += 1
            return "451 4.3.0 try again later"
        self.received.append(envelope)
        if self.hang_up:
            server.transport.close()
        return "250 2.0.0 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a free local port, with its mailbox."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    box.url = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def smtp_sender(
    mail: Mail, mailbox: Mailbox, sleeps: list[float], clock: ManualClock
) -> EmailSender:
    """The email sender over SMTP to the test's server."""
    transport = SmtpTransport(mailbox.url, clock=clock, timeout_s=5.0)
    return EmailSender(
        mail.bus,
        transport,
        failed=EventStoreFailedEmails(mail.repository.store),
        sleep=sleeps.append,
    )


def only_message(mailbox: Mailbox, email_id: UUID) -> Any:
    [envelope] = mailbox.received
    message = message_from_bytes(envelope.original_content, policy=default)
    assert message["Message-ID"] == f"<{email_id}@bookworm>"
    return envelope, message


def test_an_email_is_delivered_to_the_smtp_server_once(
    mail: Mail, mailbox: Mailbox, smtp_sender: EmailSender
) -> None:
    email_id = mail.queue()
    event = queued_event(mail, email_id)

    outcome = smtp_sender.handle(event)
    again = smtp_sender.handle(event)

    assert (outcome, again) == (SendOutcome.SENT, SendOutcome.NOTHING)
    envelope, message = only_message(mailbox, email_id)
    assert envelope.rcpt_tos == [mail.address]
    assert envelope.mail_from == "orders@bookworm.example"
    assert message["To"] == f"{mail.name} <{mail.address}>"
    assert message["Subject"].startswith("BookWorm: we received your order")
    body = message.get_body()
    assert body is not None
    assert "Dune" in body.get_content()
    assert types(mail, email_id) == ["EmailQueued", "EmailSendStarted", "EmailSent"]
    assert mail.email(email_id).transport_id == f"<{email_id}@bookworm>"


def test_refusals_are_retried_with_backoff_until_the_server_takes_it(
    mail: Mail, mailbox: Mailbox, smtp_sender: EmailSender, sleeps: list[float]
) -> None:
    mailbox.refuse = 2
    email_id = mail.queue()

    outcome = smtp_sender.handle(queued_event(mail, email_id))

    assert outcome is SendOutcome.SENT
    assert sleeps == [2.0, 4.0]
    only_message(mailbox, email_id)
    assert types(mail, email_id)[1:] == [
        "EmailSendStarted",
        "EmailSendFailed",
        "EmailSendStarted",
        "EmailSendFailed",
        "EmailSendStarted",
        "EmailSent",
    ]
    assert "451" in str(mail.email(email_id).last_error)


def test_three_refusals_fail_the_email_until_the_resend_job(
    mail: Mail, mailbox: Mailbox, smtp_sender: EmailSender
) -> None:
    mailbox.refuse = 3
    email_id = mail.queue()

    outcome = smtp_sender.handle(queued_event(mail, email_id))

    assert outcome is SendOutcome.FAILED
    assert mailbox.received == []
    email = mail.email(email_id)
    assert (email.status, email.attempts, email.final) == (EmailStatus.FAILED, 3, False)

    assert smtp_sender.resend(email_id, job_run()) is SendOutcome.SENT
    only_message(mailbox, email_id)
    assert mail.email(email_id).attempts == 4


def test_a_connection_dropped_after_the_message_is_in_doubt_and_never_sent_again(
    mail: Mail, mailbox: Mailbox, smtp_sender: EmailSender
) -> None:
    mailbox.hang_up = True
    email_id = mail.queue()

    outcome = smtp_sender.handle(queued_event(mail, email_id))

    assert outcome is SendOutcome.IN_DOUBT
    only_message(mailbox, email_id)  # the server did get it
    failure = mail.events(email_id)[-1]
    assert isinstance(failure, EmailSendFailed)
    assert (failure.attempt, failure.final) == (1, True)
    mailbox.hang_up = False
    assert smtp_sender.handle(queued_event(mail, email_id)) is SendOutcome.NOTHING
    assert smtp_sender.resend(email_id, job_run()) is SendOutcome.NOTHING
    assert len(mailbox.received) == 1


def test_an_unreachable_server_is_a_transport_error_not_in_doubt(
    mail: Mail, sleeps: list[float], clock: ManualClock
) -> None:
    transport = SmtpTransport(f"smtp://127.0.0.1:{_free_port()}", clock=clock, timeout_s=2.0)
    sender = EmailSender(mail.bus, transport, sleep=sleeps.append)
    email_id = mail.queue()

    outcome = sender.handle(queued_event(mail, email_id))

    assert outcome is SendOutcome.FAILED
    email = mail.email(email_id)
    assert (email.attempts, email.final) == (3, False)
    assert sleeps == [2.0, 4.0]


def test_an_smtp_url_names_host_port_and_credentials() -> None:
    transport = SmtpTransport("smtp://user%40x:s3cret@mail.example:2525?starttls=true")

    assert (transport.host, transport.port, transport.starttls, transport.tls) == (
        "mail.example",
        2525,
        True,
        False,
    )
    assert (transport.username, transport.password) == ("user@x", "s3cret")
    assert SmtpTransport("smtps://mail.example").port == 465
    with pytest.raises(ValueError):
        SmtpTransport("http://mail.example")
