"""The email transport port: hands one email over to whatever delivers it.

Adapters live in `write_side/mailer/` (an outbox folder of `.eml` files, SMTP). A transport
is told the email's id, so one that can (the outbox) makes the hand-over idempotent by it, and
every transport stamps it into the Message-ID, so a receiver can tell a repeat.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import ClassVar
from uuid import UUID

#: Who emails come from unless a transport is told otherwise.
DEFAULT_SENDER = "BookWorm <orders@bookworm.example>"


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One email to hand over, in the clear (it exists only in memory, never stored)."""

    email_id: UUID
    to_name: str
    to_address: str
    subject: str
    html_body: str = field(repr=False)

    @property
    def message_id(self) -> str:
        """Its Message-ID: the same for every attempt, so a receiver can tell a repeat."""
        return f"<{self.email_id}@bookworm>"

    def to_mime(self, sender: str, date: datetime) -> EmailMessage:
        """The RFC 5322 message: headers, and the HTML body as UTF-8."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = Address(display_name=self.to_name, addr_spec=self.to_address)
        message["Subject"] = self.subject
        message["Date"] = format_datetime(date)
        message["Message-ID"] = self.message_id
        message.set_content(self.html_body, subtype="html", charset="utf-8")
        return message


class TransportError(Exception):
    """The transport did not take the email.

    `in_doubt` says the transport cannot tell whether it took it (the connection broke after
    the whole message was sent): sending again could deliver it twice.
    """

    def __init__(self, message: str, *, in_doubt: bool = False) -> None:
        super().__init__(message)
        self.in_doubt = in_doubt


class EmailTransport(ABC):
    """Delivers emails; `knows_what_it_sent` when it can tell afterwards whether it took one."""

    knows_what_it_sent: ClassVar[bool] = False

    @abstractmethod
    def send(self, email: OutgoingEmail) -> str:
        """Hand `email` over; its transport id. Raises `TransportError` when not taken."""

    def find(self, email_id: UUID) -> str | None:
        """The transport id of the email it took, None when it took none (only when it
        `knows_what_it_sent`)."""
        raise TypeError(f"{type(self).__name__} cannot tell what it sent (knows_what_it_sent)")

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


__all__ = ["DEFAULT_SENDER", "EmailTransport", "OutgoingEmail", "TransportError"]
