"""The hourly resend job, run by the scheduler's real `recurring_jobs` on durable timers and the
test's clock: a failed email is sent again at the next hour, once however often the timer's
event comes; a run stops early when the transport is down.

These tests take a fresh store of each kind (`tests/domain/timers`), so the due-time table
holds only their own timers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from read_side.targets.sql import SqlTarget
from tests.domain.notification.conftest import Mail
from tests.domain.notification.test_sender import eml_files, job_run, queued_event
from tests.domain.timers import Deliveries, Timers, event_store, query_store
from write_side.domain import ManualClock
from write_side.eventstore import EventStore
from write_side.mailer import OutboxFolderTransport
from write_side.notification import (
    RESEND_JOB,
    EmailSender,
    EmailStatus,
    EmailTransport,
    SendOutcome,
    process_managers,
)
from write_side.scheduler import JOBS, RecurringJobs

__all__ = ["event_store", "query_store"]


def break_outbox(outbox: OutboxFolderTransport) -> None:
    outbox.folder.parent.mkdir(parents=True, exist_ok=True)
    outbox.folder.write_text("a file where the folder should be")


def test_the_job_is_registered_hourly() -> None:
    job = JOBS.get(RESEND_JOB)

    assert job is not None
    assert job.period == timedelta(hours=1)


def test_a_failed_email_is_sent_again_at_the_next_hour_once(
    mail: Mail,
    sender: EmailSender,
    outbox: OutboxFolderTransport,
    clock: ManualClock,
    event_store: EventStore,
    query_store: SqlTarget,
) -> None:
    mail.shop.ports[EmailTransport] = outbox  # the job finds its transport among the ports
    break_outbox(outbox)
    email_id = mail.queue()
    assert sender.handle(queued_event(mail, email_id)) is SendOutcome.FAILED
    runner = RecurringJobs(mail.bus)
    timers = Timers.on(event_store, query_store, clock)
    deliveries = Deliveries(event_store, [runner], event_store.head_position())
    runner.ensure_scheduled()
    outbox.folder.unlink()  # the outbox works again

    clock.advance(timedelta(minutes=59))
    timers.fire()
    deliveries.run()
    before_the_hour = eml_files(outbox)
    clock.advance(timedelta(minutes=1))
    timers.fire()
    deliveries.run()
    deliveries.redeliver_everything()

    assert before_the_hour == []
    assert eml_files(outbox) == [f"{email_id}.eml"]
    email = mail.email(email_id)
    assert (email.status, email.attempts) == (EmailStatus.SENT, 4)


def test_a_run_stops_after_three_failures_in_a_row(
    mail: Mail, sender: EmailSender, outbox: OutboxFolderTransport, event_store: EventStore
) -> None:
    break_outbox(outbox)
    emails = [mail.queue() for _ in range(5)]
    for email_id in emails:
        sender.handle(queued_event(mail, email_id))

    outcomes = sender.resend_failed(job_run())

    assert outcomes[SendOutcome.FAILED] == 3
    assert [mail.email(email_id).attempts for email_id in emails] == [4, 4, 4, 3, 3]


def test_the_worker_gets_the_sender_over_the_wired_transport(
    mail: Mail, outbox: OutboxFolderTransport
) -> None:
    with pytest.raises(LookupError):
        process_managers(mail.bus)
    mail.shop.ports[EmailTransport] = outbox

    [manager] = process_managers(mail.bus)

    assert isinstance(manager, EmailSender)
    assert (manager.name, manager.transport) == ("email_sender", outbox)
