"""The Email aggregate (stream `email-{id}`): queued once, then claimed and sent, or failed.

An email goes Queued -> Sending (an attempt is claimed) -> Sent, or back to Failed when the
attempt failed; a Failed email may be claimed again (the next attempt) unless the failure was
`final`. Only one attempt is ever under way: a claim is refused while the email is Sending,
and the claim is appended with the stream's expected version, so of two senders racing for the
same attempt exactly one wins.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from write_side.domain import Aggregate, DomainError, InvalidValue, NotFound, Sealed, applies
from write_side.envelope import DomainEvent
from write_side.notification.commands import EmailKind
from write_side.notification.events import (
    EmailContent,
    EmailQueued,
    EmailSendFailed,
    EmailSendStarted,
    EmailSent,
)

#: Length limits, in characters.
TO_NAME_MAX = 100
TO_ADDRESS_MAX = 255
SUBJECT_MAX = 100
BODY_MAX = 10_000
#: Every subject starts with this.
SUBJECT_PREFIX = "BookWorm: "

_ADDRESS = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\".]+")


class EmailStatus(StrEnum):
    """Where an email is."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Email(Aggregate):
    """An email to a buyer about an order: what it says (sealed), and how sending it went."""

    category = "email"

    buyer_id: UUID | None = None
    order_id: UUID | None = None
    kind: EmailKind | None = None
    subject: str = ""
    content: Sealed[EmailContent] | None = None
    status: EmailStatus | None = None
    attempts: int = 0
    """Send attempts claimed so far, over the email's life."""
    sending_since: datetime | None = None
    """When the attempt under way was claimed (None unless Sending)."""
    transport_id: str | None = None
    last_error: str | None = None
    final: bool = False
    """True when no sender may try again (see `EmailSendFailed.final`)."""

    # -- decisions ----------------------------------------------------------------------------

    def queue(
        self,
        buyer_id: UUID,
        order_id: UUID,
        kind: EmailKind,
        subject: str,
        content: EmailContent,
    ) -> list[DomainEvent]:
        """Decide `QueueEmail`: nothing when this very email is queued already."""
        check_content(subject, content)
        if self.exists:
            if (self.buyer_id, self.order_id, self.kind) == (buyer_id, order_id, kind):
                return []
            raise DomainError(
                "email_exists", f"email {self.id} is queued already, for another order or kind"
            )
        return [
            EmailQueued(
                email_id=self.id,
                buyer_id=buyer_id,
                order_id=order_id,
                kind=kind,
                subject=subject,
                content=Sealed.of(buyer_id, content),
            )
        ]

    def start_send(self, attempt: int, now: datetime) -> list[DomainEvent]:
        """Decide `StartEmailSend`: claim the next attempt of a Queued or Failed email."""
        self.require_exists()
        if self.status is EmailStatus.SENT:
            raise DomainError("email_sent", f"email {self.id} is sent already")
        if self.status is EmailStatus.SENDING:
            raise DomainError("email_sending", f"attempt {self.attempts} of {self.id} is under way")
        if self.final:
            raise DomainError("email_given_up", f"email {self.id} is not to be sent again")
        if self.recipient_erased:
            raise DomainError("email_recipient_erased", f"the recipient of {self.id} was erased")
        if attempt != self.attempts + 1:
            raise DomainError(
                "attempt_out_of_turn",
                f"the next attempt of {self.id} is {self.attempts + 1}, not {attempt}",
                field="attempt",
            )
        return [EmailSendStarted(attempt=attempt, started_at=now)]

    def record_sent(self, attempt: int, transport_id: str, now: datetime) -> list[DomainEvent]:
        """Decide `RecordEmailSent` for the attempt under way."""
        self._require_under_way(attempt)
        return [EmailSent(sent_at=now, transport_id=transport_id, attempt=attempt)]

    def record_failed(self, attempt: int, error: str, *, final: bool) -> list[DomainEvent]:
        """Decide `RecordEmailSendFailed` for the attempt under way."""
        self._require_under_way(attempt)
        return [EmailSendFailed(attempt=attempt, error=error, final=final)]

    def discard(self, reason: str) -> list[DomainEvent]:
        """Decide `DiscardEmail`: give up an email no attempt is under way for; nothing when
        it was given up already."""
        self.require_exists()
        if self.status in (EmailStatus.SENT, EmailStatus.SENDING):
            raise DomainError("email_not_discardable", f"email {self.id} is {self.status}")
        if self.final:
            return []
        return [EmailSendFailed(attempt=self.attempts, error=reason, final=True)]

    def require_exists(self) -> None:
        """Raise `NotFound` unless the email was queued."""
        if not self.exists:
            raise NotFound("email_not_found", f"there is no email {self.id}", field="email_id")

    @property
    def recipient_erased(self) -> bool:
        """True when the buyer was forgotten: the email can never be read, nor sent."""
        return self.content is not None and self.content.erased

    def _require_under_way(self, attempt: int) -> None:
        self.require_exists()
        if self.status is not EmailStatus.SENDING or attempt != self.attempts:
            raise DomainError(
                "attempt_not_under_way",
                f"attempt {attempt} of email {self.id} is not under way ({self.status})",
                field="attempt",
            )

    # -- evolution ----------------------------------------------------------------------------

    @applies(EmailQueued)
    def _queued(self, event: EmailQueued) -> None:
        self.buyer_id = event.buyer_id
        self.order_id = event.order_id
        self.kind = event.kind
        self.subject = event.subject
        self.content = event.content
        self.status = EmailStatus.QUEUED

    @applies(EmailSendStarted)
    def _started(self, event: EmailSendStarted) -> None:
        self.attempts = event.attempt
        self.status = EmailStatus.SENDING
        self.sending_since = event.started_at

    @applies(EmailSent)
    def _sent(self, event: EmailSent) -> None:
        self.status = EmailStatus.SENT
        self.transport_id = event.transport_id
        self.sending_since = None

    @applies(EmailSendFailed)
    def _failed(self, event: EmailSendFailed) -> None:
        self.status = EmailStatus.FAILED
        self.last_error = event.error
        self.final = event.final
        self.sending_since = None


def check_recipient(to_name: str, to_address: str) -> None:
    """The rules of a recipient: a name (≤ 100) and an email address (≤ 255), one line each."""
    _check_text(to_name, "to_name", TO_NAME_MAX)
    _check_text(to_address, "to_address", TO_ADDRESS_MAX)
    if _ADDRESS.fullmatch(to_address) is None:
        raise InvalidValue(
            "to_address_invalid", "to_address is not an email address", field="to_address"
        )


def check_content(subject: str, content: EmailContent) -> None:
    """The rules of what an email says: recipient, subject (prefixed, ≤ 100), body (≤ 10000)."""
    check_recipient(content.to_name, content.to_address)
    _check_text(subject, "subject", SUBJECT_MAX)
    if not subject.startswith(SUBJECT_PREFIX):
        raise InvalidValue("subject_prefix", f"a subject starts with {SUBJECT_PREFIX!r}")
    _check_text(content.html_body, "html_body", BODY_MAX)


def _check_text(value: str, field: str, limit: int) -> None:
    if not value:
        raise InvalidValue(f"{field}_required", f"{field} is required", field=field)
    if len(value) > limit:
        raise InvalidValue(
            f"{field}_too_long",
            f"{field} has {len(value)} characters, at most {limit}",
            field=field,
        )
    if field != "html_body" and ("\r" in value or "\n" in value):
        raise InvalidValue(f"{field}_invalid", f"{field} holds a line break", field=field)


__all__ = [
    "BODY_MAX",
    "SUBJECT_MAX",
    "SUBJECT_PREFIX",
    "TO_ADDRESS_MAX",
    "TO_NAME_MAX",
    "Email",
    "EmailStatus",
    "check_content",
    "check_recipient",
]
