"""The email sender: sends each queued email, never twice, with retries and backoff.

It runs on its persistent subscription group (`email_sender`), which delivers each
`EmailQueued` at least once: again after a crash before the acknowledgement, after a message
timeout (perhaps while the first delivery is still at work in another worker), after a retry.

**Where the inbox lives, and what "never twice" means.** The inbox is the email's own stream.
Before an email is handed to a transport, the sender claims the attempt by appending
`EmailSendStarted`, with a command id derived from the delivered event's id and the attempt
number, at the stream's expected version; only then does it call the transport, and then it
records `EmailSent` or `EmailSendFailed`. So:

- a redelivered event finds its claim (the repository answers the same command id with the
  first result) or the email Sending or Sent, and hands nothing over;
- of two senders racing (competing consumers, the resend job) exactly one claim is appended;
- the one window no store can close is between the transport taking the email and
  `EmailSent` being appended (no transaction spans an SMTP server and the event store). A
  sender that dies there leaves the email Sending. That email is never handed over again by
  the same event: the resend job settles it once it is stale. A transport that
  `knows_what_it_sent` (the outbox folder: its file is the email) says whether it took it, and
  the job records the truth (sent, or failed and sent again). SMTP cannot tell: the email is
  recorded as failed for good, "in doubt", and not sent again. The guarantee is therefore *at
  most once* per email with SMTP (a crash in that window may lose the email, never double it),
  and *exactly once* with the outbox. Each message also carries `Message-ID:
  <email id@bookworm>`, the same for every attempt, so a receiver can drop a repeat should an
  operator ever re-send one by hand.

Transport errors are retried: `attempts` (3) per round with exponential backoff (2 s, 4 s),
then the email stays Failed until the hourly resend job (`resend.py`) tries again, 100 emails
at a time, one attempt each. The backoff sleeps inside the delivery: the group's message
timeout (60 s) must exceed the round (3 transport timeouts of 10 s and the pauses).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from write_side.domain import Cause, CommandBus, DomainError
from write_side.envelope import StoredEvent
from write_side.eventstore import EventFilter
from write_side.ids import derive_id
from write_side.notification.commands import (
    DiscardEmail,
    RecordEmailSendFailed,
    RecordEmailSent,
    StartEmailSend,
)
from write_side.notification.email import Email, EmailStatus
from write_side.notification.events import EmailQueued
from write_side.notification.failed import FailedEmails
from write_side.notification.transport import EmailTransport, OutgoingEmail, TransportError

log = logging.getLogger(__name__)

#: Attempts per round, the first backoff pause, and when a claim counts as abandoned.
ATTEMPTS = 3
BACKOFF_S = 2.0
STALE_AFTER = timedelta(minutes=15)
#: How many emails one run of the resend job takes up, and after how many failures in a row
#: it stops (the transport is down: the rest wait for the next run).
RESEND_BATCH = 100
GIVE_UP_AFTER = 3

ERASED = "the recipient's personal data was erased"
IN_DOUBT = (
    "the sender stopped while handing the email over and the transport cannot tell whether it "
    "took it: not sent again, so that it is never sent twice"
)
NOT_TAKEN = "the sender stopped before the transport took the email"


class SendOutcome(StrEnum):
    """What one round of sending did to an email."""

    SENT = "sent"
    FAILED = "failed"
    """Every attempt of the round failed; the resend job tries again later."""
    IN_DOUBT = "in_doubt"
    DISCARDED = "discarded"
    """The recipient was erased: given up without an attempt."""
    NOTHING = "nothing"
    """Sent already, under way elsewhere, or given up: this round hands nothing over."""


class EmailSender:
    """Sends queued emails through a transport (a process manager on group `email_sender`)."""

    name: ClassVar[str] = "email_sender"
    actor: ClassVar[str] = f"system:{name}"
    filter: ClassVar[EventFilter] = EventFilter.event_types(EmailQueued.event_type)

    def __init__(
        self,
        bus: CommandBus,
        transport: EmailTransport,
        *,
        failed: FailedEmails | None = None,
        attempts: int = ATTEMPTS,
        backoff_s: float = BACKOFF_S,
        stale_after: timedelta = STALE_AFTER,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts < 1:
            raise ValueError("a round makes at least one attempt")
        self.dispatch = bus.dispatch
        self.repository = bus.services.repository
        self.clock = bus.services.clock
        self.transport = transport
        self.failed = failed
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.stale_after = stale_after
        self._sleep = sleep

    def handle(self, stored: StoredEvent) -> SendOutcome | None:
        """Send the email an `EmailQueued` queued (others are ignored); safe to call again."""
        event = stored.event
        if not isinstance(event, EmailQueued):
            return None
        return self.send(event.email_id, cause_of(stored), last_attempt=self.attempts)

    def send(self, email_id: UUID, cause: Cause, *, last_attempt: int) -> SendOutcome:
        """One round: claim and make attempts up to number `last_attempt`, pausing longer
        before each retry, until one is taken, the transport is in doubt, or none is left."""
        made = 0
        while True:
            email = self.repository.load(Email, email_id)
            if email.status is not EmailStatus.QUEUED and email.status is not EmailStatus.FAILED:
                return SendOutcome.NOTHING
            if email.final:
                return SendOutcome.NOTHING
            if email.recipient_erased:
                discard = DiscardEmail(
                    email_id=email_id, reason=ERASED, **self._by(cause, email_id, "discard")
                )
                self.dispatch(discard)
                return SendOutcome.DISCARDED
            if email.attempts >= last_attempt:
                return SendOutcome.FAILED
            if made:
                self._sleep(self.backoff_s * 2 ** (made - 1))
            attempt = email.attempts + 1
            try:
                claim = self.dispatch(
                    StartEmailSend(
                        email_id=email_id,
                        attempt=attempt,
                        **self._by(cause, email_id, "start", attempt),
                    )
                )
            except DomainError as lost:
                log.info("%s: email %s is someone else's now: %s", self.name, email_id, lost)
                return SendOutcome.NOTHING
            if claim.replayed:
                return SendOutcome.NOTHING  # this very cause claimed it before: outcome unknown
            made += 1
            outcome = self._attempt(email, attempt, cause)
            if outcome is not SendOutcome.FAILED:
                return outcome

    def _attempt(self, email: Email, attempt: int, cause: Cause) -> SendOutcome:
        assert email.content is not None
        content = email.content.require()
        outgoing = OutgoingEmail(
            email_id=email.id,
            to_name=content.to_name,
            to_address=content.to_address,
            subject=email.subject,
            html_body=content.html_body,
        )
        try:
            transport_id = self.transport.send(outgoing)
        except TransportError as error:
            log.warning("%s: attempt %d of %s failed: %s", self.name, attempt, email.id, error)
            failure = RecordEmailSendFailed(
                email_id=email.id,
                attempt=attempt,
                error=str(error)[:1000],
                final=error.in_doubt,
                **self._by(cause, email.id, "failed", attempt),
            )
            self.dispatch(failure)
            return SendOutcome.IN_DOUBT if error.in_doubt else SendOutcome.FAILED
        sent = RecordEmailSent(
            email_id=email.id,
            attempt=attempt,
            transport_id=transport_id,
            **self._by(cause, email.id, "sent", attempt),
        )
        self.dispatch(sent)
        return SendOutcome.SENT

    # -- the resend job ---------------------------------------------------------------------

    def resend_failed(
        self,
        cause: Cause,
        *,
        limit: int = RESEND_BATCH,
        attempts: int = 1,
        give_up_after: int = GIVE_UP_AFTER,
    ) -> dict[SendOutcome, int]:
        """The resend job's run: settle or try again at most `limit` failed or abandoned
        emails, oldest first; how many ended how.

        Each email gets `attempts` attempt(s) without pausing: the hour until the next run is
        its backoff, and a run stays short. After `give_up_after` emails in a row failed, the
        transport is taken to be down and the rest wait for the next run. `cause` is the run's
        timer event: the commands' ids derive from it, so a repeated run claims nothing twice.
        """
        if self.failed is None:
            raise LookupError("the email sender was built without a FailedEmails port")
        stale_before = self.clock.now() - self.stale_after
        outcomes = dict.fromkeys(SendOutcome, 0)
        failed_in_a_row = 0
        for email_id in self.failed.find(limit=limit, stale_before=stale_before):
            outcome = self.resend(email_id, cause, stale_before=stale_before, attempts=attempts)
            outcomes[outcome] += 1
            failed_in_a_row = failed_in_a_row + 1 if outcome is SendOutcome.FAILED else 0
            if failed_in_a_row >= give_up_after:
                log.warning(
                    "%s: %d emails in a row failed; the rest wait", self.name, give_up_after
                )
                break
        return outcomes

    def resend(
        self,
        email_id: UUID,
        cause: Cause,
        *,
        stale_before: datetime | None = None,
        attempts: int | None = None,
    ) -> SendOutcome:
        """Settle an abandoned attempt of one email (claimed before `stale_before`), then run
        another round of `attempts` (default: a full round) if it failed."""
        if stale_before is None:
            stale_before = self.clock.now() - self.stale_after
        email = self.repository.load(Email, email_id)
        if email.status is EmailStatus.SENDING:
            since = email.sending_since
            if since is not None and since >= stale_before:
                return SendOutcome.NOTHING  # a sender is at it now
            settled = self._settle(email, cause)
            if settled is not None:
                return settled
            email = self.repository.load(Email, email_id)
        if email.status is not EmailStatus.FAILED:
            return SendOutcome.NOTHING
        round_attempts = self.attempts if attempts is None else attempts
        return self.send(email_id, cause, last_attempt=email.attempts + round_attempts)

    def _settle(self, email: Email, cause: Cause) -> SendOutcome | None:
        """Record what became of an abandoned attempt; None when it was not taken."""
        attempt = email.attempts
        by = self._by(cause, email.id, "settle", attempt)
        if not self.transport.knows_what_it_sent:
            self.dispatch(
                RecordEmailSendFailed(
                    email_id=email.id, attempt=attempt, error=IN_DOUBT, final=True, **by
                )
            )
            return SendOutcome.IN_DOUBT
        found = self.transport.find(email.id)
        if found is not None:
            self.dispatch(
                RecordEmailSent(email_id=email.id, attempt=attempt, transport_id=found, **by)
            )
            return SendOutcome.SENT
        self.dispatch(
            RecordEmailSendFailed(email_id=email.id, attempt=attempt, error=NOT_TAKEN, **by)
        )
        return None

    def _by(self, cause: Cause, email_id: UUID, step: str, attempt: int = 0) -> dict[str, Any]:
        """Who sends a command and why; its id is derived from the cause, the step and the
        attempt, so the repository answers a repeat with the first result."""
        return {
            "command_id": derive_id(cause.event_id, self.name, str(email_id), step, str(attempt)),
            "actor": self.actor,
            "cause": cause,
        }


def cause_of(stored: StoredEvent) -> Cause:
    """The cause of the commands answering `stored`: its id, and its flow's correlation."""
    metadata = stored.metadata
    correlation = stored.id if metadata is None else metadata.correlation_id
    return Cause(event_id=stored.id, correlation_id=correlation)


__all__ = ["EmailSender", "SendOutcome", "cause_of"]
