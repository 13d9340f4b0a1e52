"""The email sender over the outbox folder: given a queued email, when the sender handles its
event (once, again, after a crash), then one `.eml` file and one EmailSent; transport failures
are retried with backoff, then EmailSendFailed; the resend job takes them up again."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from uuid import UUID

from tests.domain.notification.conftest import Mail
from write_side.domain import Cause, ManualClock
from write_side.envelope import StoredEvent
from write_side.ids import new_id
from write_side.mailer import OutboxFolderTransport
from write_side.notification import (
    Email,
    EmailQueued,
    EmailSender,
    EmailSendFailed,
    EmailSendStarted,
    EmailSent,
    EmailStatus,
    SendOutcome,
    StartEmailSend,
)
from write_side.notification.sender import NOT_TAKEN


def queued_event(mail: Mail, email_id: UUID) -> StoredEvent:
    """The stored EmailQueued of an email, as its group delivers it."""
    [raw] = mail.repository.store.read_stream(Email.stream_for(email_id), limit=1)
    return mail.repository.registry.decode(raw)


def types(mail: Mail, email_id: UUID) -> list[str]:
    return [type(event).event_type for event in mail.events(email_id)]


def eml_files(outbox: OutboxFolderTransport) -> list[str]:
    if not outbox.folder.exists():
        return []
    return sorted(path.name for path in outbox.folder.iterdir())


def job_run() -> Cause:
    """The cause a run of the resend job gives its commands (its timer event)."""
    event_id = new_id()
    return Cause(event_id=event_id, correlation_id=event_id)


def test_a_queued_email_becomes_one_eml_file(
    mail: Mail, sender: EmailSender, outbox: OutboxFolderTransport, clock: ManualClock
) -> None:
    email_id = mail.queue()

    outcome = sender.handle(queued_event(mail, email_id))

    assert outcome is SendOutcome.SENT
    assert eml_files(outbox) == [f"{email_id}.eml"]
    message = message_from_bytes(outbox.path_for(email_id).read_bytes(), policy=default)
    assert message["To"] == f"{mail.name} <{mail.address}>"
    assert message["Subject"] == mail.email(email_id).subject
    assert message["Message-ID"] == f"<{email_id}@bookworm>"
    body = message.get_body()
    assert body is not None
    assert body.get_content_type() == "text/html"
    assert "Dune" in body.get_content()
    assert mail.events(email_id)[1:] == [
        EmailSendStarted(attempt=1, started_at=clock.now()),
        EmailSent(sent_at=clock.now(), transport_id=f"{email_id}.eml", attempt=1),
    ]
    assert mail.email(email_id).status is EmailStatus.SENT


def test_a_redelivered_event_sends_nothing_again(
    mail: Mail, sender: EmailSender, outbox: OutboxFolderTransport
) -> None:
    email_id = mail.queue()
    event = queued_event(mail, email_id)
    sender.handle(event)
    written = outbox.path_for(email_id).read_bytes()

    again = sender.handle(event)

    assert again is SendOutcome.NOTHING
    assert eml_files(outbox) == [f"{email_id}.eml"]
    assert outbox.path_for(email_id).read_bytes() == written
    assert types(mail, email_id) == ["EmailQueued", "EmailSendStarted", "EmailSent"]


def test_events_of_other_types_are_ignored(mail: Mail, sender: EmailSender) -> None:
    [placed] = mail.repository.store.read_stream(f"order-{mail.order_id}", limit=1)

    assert sender.handle(mail.repository.registry.decode(placed)) is None


def test_an_attempt_claimed_by_a_sender_that_died_is_not_sent_by_a_redelivery(
    mail: Mail, sender: EmailSender, outbox: OutboxFolderTransport
) -> None:
    email_id = mail.queue()
    # Another worker claimed attempt 1 and died (or is still at it) before recording anything.
    mail.bus.dispatch(StartEmailSend(email_id=email_id, attempt=1))

    outcome = sender.handle(queued_event(mail, email_id))

    assert outcome is SendOutcome.NOTHING
    assert eml_files(outbox) == []
    assert mail.email(email_id).status is EmailStatus.SENDING


def test_transport_errors_are_retried_with_backoff_then_the_email_fails(
    mail: Mail, sender: EmailSender, outbox: OutboxFolderTransport, sleeps: list[float]
) -> None:
    outbox.folder.parent.mkdir(parents=True, exist_ok=True)
    outbox.folder.write_text("a file where the folder should be")  # every write fails
    email_id = mail.queue()

    outcome = sender.handle(queued_event(mail, email_id))

    assert outcome is SendOutcome.FAILED
    assert sleeps == [2.0, 4.0]
    events = mail.events(email_id)
    assert types(mail, email_id) == ["EmailQueued"] + ["EmailSendStarted", "EmailSendFailed"] * 3
    failures = [event for event in events if isinstance(event, EmailSendFailed)]
    assert [failure.attempt for failure in failures] == [1, 2, 3]
    assert all("cannot write" in failure.error and not failure.final for failure in failures)
    email = mail.email(email_id)
    assert (email.status, email.attempts, email.final) == (EmailStatus.FAILED, 3, False)
    # A redelivery of the same event makes no fourth attempt: its round is over.
    assert sender.handle(queued_event(mail, email_id)) is SendOutcome.FAILED
    assert mail.email(email_id).attempts == 3


def test_the_resend_job_sends_a_failed_email_once_the_transport_works(
    mail: Mail, sender: EmailSender, outbox: OutboxFolderTransport, clock: ManualClock
) -> None:
    outbox.folder.parent.mkdir(parents=True, exist_ok=True)
    outbox.folder.write_text("broken")
    email_id = mail.queue()
    sender.handle(queued_event(mail, email_id))
    outbox.folder.unlink()  # repaired
    assert sender.failed is not None
    assert email_id in sender.failed.find(limit=10_000, stale_before=clock.now())

    outcomes = sender.resend_failed(job_run())

    assert outcomes[SendOutcome.SENT] >= 1
    assert eml_files(outbox).count(f"{email_id}.eml") == 1
    email = mail.email(email_id)
    assert (email.status, email.attempts) == (EmailStatus.SENT, 4)
    assert email_id not in sender.failed.find(limit=10_000, stale_before=clock.now())


def test_the_same_job_run_twice_sends_nothing_twice(
    mail: Mail, sender: EmailSender, outbox: OutboxFolderTransport
) -> None:
    outbox.folder.parent.mkdir(parents=True, exist_ok=True)
    outbox.folder.write_text("broken")
    email_id = mail.queue()
    sender.handle(queued_event(mail, email_id))
    outbox.folder.unlink()
    run = job_run()

    first = sender.resend(email_id, run)
    again = sender.resend(email_id, run)

    assert (first, again) == (SendOutcome.SENT, SendOutcome.NOTHING)
    assert types(mail, email_id).count("EmailSent") == 1


def test_an_abandoned_attempt_the_outbox_never_took_is_sent_by_the_resend_job(
    mail: Mail, sender: EmailSender, outbox: OutboxFolderTransport, clock: ManualClock
) -> None:
    email_id = mail.queue()
    mail.bus.dispatch(StartEmailSend(email_id=email_id, attempt=1))  # the sender died here
    assert sender.resend(email_id, job_run()) is SendOutcome.NOTHING  # not stale yet
    clock.advance(timedelta(minutes=16))

    outcome = sender.resend(email_id, job_run())

    assert outcome is SendOutcome.SENT
    assert eml_files(outbox) == [f"{email_id}.eml"]
    failure = mail.events(email_id)[2]
    assert failure == EmailSendFailed(attempt=1, error=NOT_TAKEN)
    assert types(mail, email_id)[3:] == ["EmailSendStarted", "EmailSent"]


def test_an_abandoned_attempt_the_outbox_took_is_recorded_as_sent_not_sent_again(
    mail: Mail, sender: EmailSender, outbox: OutboxFolderTransport, clock: ManualClock
) -> None:
    email_id = mail.queue()
    mail.bus.dispatch(StartEmailSend(email_id=email_id, attempt=1))
    # The sender wrote the file, then died before it could record EmailSent.
    outbox.folder.mkdir(parents=True)
    outbox.path_for(email_id).write_bytes(b"the email as it went out")
    clock.advance(timedelta(minutes=16))

    outcomes = sender.resend_failed(job_run())

    assert outcomes[SendOutcome.SENT] >= 1
    assert outbox.path_for(email_id).read_bytes() == b"the email as it went out"
    assert mail.events(email_id)[2:] == [
        EmailSent(sent_at=clock.now(), transport_id=f"{email_id}.eml", attempt=1)
    ]


def test_an_email_whose_buyer_was_erased_is_never_sent_nor_readable(
    mail: Mail, sender: EmailSender, outbox: OutboxFolderTransport
) -> None:
    from write_side.ordering import ForgetBuyer

    email_id = mail.queue()
    mail.bus.dispatch(ForgetBuyer(buyer_id=mail.buyer_id, actor="admin"))

    outcome = sender.handle(queued_event(mail, email_id))

    assert outcome is SendOutcome.DISCARDED
    assert eml_files(outbox) == []
    email = mail.email(email_id)
    assert email.recipient_erased
    assert (email.status, email.final) == (EmailStatus.FAILED, True)
    assert isinstance(mail.events(email_id)[0], EmailQueued)
    for raw in mail.repository.store.read_stream(Email.stream_for(email_id)):
        for secret in (mail.name, mail.address, "Dune"):
            assert secret.encode() not in raw.data + raw.metadata
    assert sender.resend(email_id, job_run()) is SendOutcome.NOTHING
    assert eml_files(outbox) == []
