"""The hourly resend of failed emails: a recurring job (`write_side.scheduler`), registered in
`JOBS` when this package is imported, run by the `recurring_jobs` process manager.

Each run takes up to 100 emails that failed (not for good) or whose sender was abandoned
mid-attempt, settles the abandoned ones, and gives each failed one another attempt (see
`EmailSender.resend_failed`). The job finds the transport and the failed emails among the
bus's ports (`EmailTransport`, `FailedEmails`), which the composition root wires; without a
wired `FailedEmails` it folds the email events of the event store.
"""

from __future__ import annotations

from datetime import timedelta

from write_side.domain import CommandBus
from write_side.notification.failed import EventStoreFailedEmails, FailedEmails
from write_side.notification.sender import RESEND_BATCH, EmailSender, SendOutcome
from write_side.notification.transport import EmailTransport
from write_side.scheduler import JOBS, JobRun

#: The job's name (its stream is `job-{uuid5 of the name}`) and period.
RESEND_JOB = "resend_failed_emails"
RESEND_EVERY = timedelta(hours=1)


def failed_emails(bus: CommandBus) -> FailedEmails:
    """The `FailedEmails` wired on the bus, else the answer from its event store."""
    try:
        return bus.services.port(FailedEmails)
    except LookupError:
        return EventStoreFailedEmails(bus.services.repository.store)


def email_sender(bus: CommandBus, transport: EmailTransport | None = None) -> EmailSender:
    """The email sender over `transport` (default: the `EmailTransport` wired on the bus)."""
    chosen = bus.services.port(EmailTransport) if transport is None else transport
    return EmailSender(bus, chosen, failed=failed_emails(bus))


def resend_failed_emails(run: JobRun) -> dict[SendOutcome, int]:
    """One run of the job: at most 100 failed or abandoned emails, one attempt each."""
    return email_sender(run.bus).resend_failed(run.cause, limit=RESEND_BATCH)


JOBS.register(RESEND_JOB, period=RESEND_EVERY, run=resend_failed_emails)

__all__ = ["RESEND_EVERY", "RESEND_JOB", "email_sender", "failed_emails", "resend_failed_emails"]
