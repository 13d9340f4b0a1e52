"""Feedback: given these prior commands, when this command, then these events or this error."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.domain.contexts import events_of
from tests.domain.faults import FailsOnce, services_with
from write_side import rating
from write_side.domain import (
    Command,
    CommandBus,
    DomainError,
    ManualClock,
    NotFound,
    Repository,
    Reservations,
    Services,
)
from write_side.eventstore import EventStore, EventStoreUnavailable
from write_side.ids import derive_id
from write_side.rating import (
    CreateFeedback,
    DeleteFeedback,
    Feedback,
    FeedbackCreated,
    FeedbackDeleted,
    FeedbackRejected,
    RejectFeedback,
    RejectionReason,
    ReviewerName,
)


def create(book_id: uuid.UUID | None = None, **changes: Any) -> CreateFeedback:
    fields: dict[str, Any] = {
        "book_id": book_id or uuid.uuid4(),
        "first_name": "Ada",
        "last_name": "Lovelace",
        "comment": "Enchanting.",
        "rating": 4,
    }
    return CreateFeedback(**(fields | changes))


def given_feedback(bus: CommandBus, book_id: uuid.UUID | None = None, **changes: Any) -> uuid.UUID:
    return bus.dispatch(create(book_id, **changes)).aggregate_id


def test_create_feedback(bus: CommandBus, repository: Repository) -> None:
    command = create(first_name=" Ada ", comment="Enchanting.")

    result = bus.dispatch(command)

    feedback_id = derive_id(command.command_id, "feedback")
    assert (result.aggregate_id, result.stream) == (feedback_id, f"feedback-{feedback_id}")
    [created] = events_of(repository, result.stream)
    assert isinstance(created, FeedbackCreated)
    assert (created.feedback_id, created.book_id) == (feedback_id, command.book_id)
    assert (created.comment, created.rating) == ("Enchanting.", 4)
    assert created.reviewer.subject == feedback_id
    assert created.reviewer.value == ReviewerName(first_name="Ada", last_name="Lovelace")


def test_one_feedback_per_book_and_reviewer_names(bus: CommandBus, repository: Repository) -> None:
    book = uuid.uuid4()
    given_feedback(bus, book)
    again = create(book, first_name="  ADA", last_name="lovelace ", rating=1)

    with pytest.raises(DomainError) as raised:
        bus.dispatch(again)

    assert (raised.value.rule, raised.value.field, raised.value.status) == (
        "feedback_already_given",
        None,
        409,
    )
    assert "ada" not in str(raised.value).lower()  # the names are personal data
    assert "lovelace" not in str(raised.value).lower()
    assert events_of(repository, Feedback.stream_for(rating.feedback_id_for(again))) == []


def test_another_book_or_other_names_may_be_rated(bus: CommandBus) -> None:
    book = uuid.uuid4()
    given_feedback(bus, book, first_name="Ada Mary", last_name="Lovelace")

    others = [
        create(book, first_name="Ada", last_name="Mary Lovelace"),  # the parts do not run together
        create(book, first_name="Ada Mary", last_name="Byron"),
        create(uuid.uuid4(), first_name="Ada Mary", last_name="Lovelace"),
    ]

    assert [bus.dispatch(command).events for command in others] == [("FeedbackCreated",)] * 3


def test_delete_feedback_records_its_book_and_rating(
    bus: CommandBus, repository: Repository
) -> None:
    book = uuid.uuid4()
    feedback_id = given_feedback(bus, book, rating=2)

    bus.dispatch(DeleteFeedback(feedback_id=feedback_id, actor="admin"))

    assert events_of(repository, Feedback.stream_for(feedback_id))[1:] == [
        FeedbackDeleted(book_id=book, rating=2)
    ]


def test_reject_feedback_records_why(bus: CommandBus, repository: Repository) -> None:
    book = uuid.uuid4()
    feedback_id = given_feedback(bus, book, rating=5)

    bus.dispatch(RejectFeedback(feedback_id=feedback_id, reason=RejectionReason.BOOK_DELETED))

    assert events_of(repository, Feedback.stream_for(feedback_id))[1:] == [
        FeedbackRejected(book_id=book, rating=5, reason=RejectionReason.BOOK_DELETED)
    ]


@pytest.mark.parametrize("ended_by", ["delete", "reject"])
def test_a_deleted_or_rejected_feedback_frees_the_reviewer(ended_by: str, bus: CommandBus) -> None:
    book = uuid.uuid4()
    feedback_id = given_feedback(bus, book)
    if ended_by == "delete":
        bus.dispatch(DeleteFeedback(feedback_id=feedback_id))
    else:
        bus.dispatch(RejectFeedback(feedback_id=feedback_id, reason=RejectionReason.BOOK_DELETED))

    again = bus.dispatch(create(book))

    assert again.events == ("FeedbackCreated",)


def test_a_deleted_or_rejected_feedback_takes_no_further_delete(bus: CommandBus) -> None:
    deleted, rejected = given_feedback(bus), given_feedback(bus)
    bus.dispatch(DeleteFeedback(feedback_id=deleted))
    bus.dispatch(RejectFeedback(feedback_id=rejected, reason=RejectionReason.BOOK_NOT_FOUND))

    answers = []
    for feedback_id in (deleted, rejected):
        with pytest.raises(DomainError) as raised:
            bus.dispatch(DeleteFeedback(feedback_id=feedback_id))
        answers.append((raised.value.rule, raised.value.status))

    assert answers == [("feedback_deleted", 409), ("feedback_rejected", 409)]


def test_rejecting_a_feedback_no_longer_active_records_nothing(
    bus: CommandBus, repository: Repository
) -> None:
    feedback_id = given_feedback(bus)
    bus.dispatch(DeleteFeedback(feedback_id=feedback_id))

    result = bus.dispatch(
        RejectFeedback(feedback_id=feedback_id, reason=RejectionReason.BOOK_NOT_FOUND)
    )

    assert result.events == ()
    assert len(events_of(repository, Feedback.stream_for(feedback_id))) == 2


def test_a_missing_feedback_is_not_found(bus: CommandBus) -> None:
    missing = uuid.uuid4()

    answers = []
    for command in (
        DeleteFeedback(feedback_id=missing),
        RejectFeedback(feedback_id=missing, reason=RejectionReason.BOOK_NOT_FOUND),
    ):
        with pytest.raises(NotFound) as raised:
            bus.dispatch(command)
        answers.append((raised.value.rule, raised.value.status))

    assert answers == [("feedback_not_found", 404)] * 2


# -- idempotency and failures -------------------------------------------------------------------


def test_each_rating_command_sent_twice_records_once(
    bus: CommandBus, event_store: EventStore
) -> None:
    deleted, rejected = given_feedback(bus), given_feedback(bus)
    commands: list[Command] = [
        create(),
        DeleteFeedback(feedback_id=deleted),
        RejectFeedback(feedback_id=rejected, reason=RejectionReason.BOOK_DELETED),
    ]

    for command in commands:
        first = bus.dispatch(command)
        head = event_store.head_position()
        second = bus.dispatch(command)

        assert first.events
        assert second.replayed
        assert (second.revision, second.position) == (first.revision, first.position)
        assert event_store.head_position() == head


def test_a_create_retried_after_a_lost_answer_targets_the_same_stream(
    bus: CommandBus, services: Services, event_store: EventStore, repository: Repository
) -> None:
    command = create()
    flaky = CommandBus(
        services_with(services, FailsOnce(event_store, "feedback-", written=True)),
        rating.HANDLERS,
    )

    with pytest.raises(ConnectionResetError):
        flaky.dispatch(command)
    retried = flaky.dispatch(command)
    with pytest.raises(DomainError) as taken:
        bus.dispatch(create(command.book_id))

    assert retried.replayed
    assert taken.value.rule == "feedback_already_given"
    assert len(events_of(repository, retried.stream)) == 1


def test_a_create_whose_append_failed_frees_the_reviewer(
    bus: CommandBus, services: Services, event_store: EventStore
) -> None:
    command = create()
    flaky = CommandBus(
        services_with(services, FailsOnce(event_store, "feedback-", written=False)),
        rating.HANDLERS,
    )

    with pytest.raises(EventStoreUnavailable):
        flaky.dispatch(command)

    assert bus.dispatch(create(command.book_id)).events == ("FeedbackCreated",)


def test_a_claim_that_cannot_be_released_leaves_the_error_of_the_command(
    bus: CommandBus, services: Services, event_store: EventStore
) -> None:
    command = create()
    flaky = CommandBus(
        services_with(
            services, FailsOnce(event_store, "feedback-", "feedbackreviewer-", written=False)
        ),
        rating.HANDLERS,
    )

    with pytest.raises(EventStoreUnavailable, match="writing to feedback-"):
        flaky.dispatch(command)  # the append fails, then the release

    with pytest.raises(DomainError) as taken:  # the claim stays, left to the sweeper
        bus.dispatch(create(command.book_id))
    assert taken.value.rule == "feedback_already_given"


def test_a_create_aimed_at_an_existing_feedback_is_refused(
    bus: CommandBus, repository: Repository
) -> None:
    existing = given_feedback(bus)
    command = create()

    with pytest.raises(DomainError) as raised:
        repository.execute(Feedback, existing, command, lambda f: f.create(command))

    assert (raised.value.rule, raised.value.status) == ("feedback_exists", 409)


def test_the_sweeper_keeps_the_claims_of_active_feedback_only(
    bus: CommandBus,
    repository: Repository,
    reservations: Reservations,
    clock: ManualClock,
) -> None:
    # A delete that could not release its claim (the process crashed in between) is simulated
    # by claiming again for a deleted feedback, as the crash would have left it.
    book = uuid.uuid4()
    active = given_feedback(bus, book, first_name="Active")
    deleted_command = create(book, first_name="Deleted")
    deleted = bus.dispatch(deleted_command).aggregate_id
    bus.dispatch(DeleteFeedback(feedback_id=deleted))
    key = rating.reviewer_key(book, ReviewerName(first_name="Deleted", last_name="Lovelace"))
    reservations.reserve(
        rating.REVIEWER_RESERVATION,
        key,
        owner_id=deleted,
        owner_stream=Feedback.stream_for(deleted),
        command=Command(),
        rule="feedback_already_given",
        personal=True,
    )
    clock.advance(timedelta(minutes=20))

    reservations.sweep(
        older_than=timedelta(minutes=10),
        still_wanted=rating.reservation_checks(repository),
        command=Command(actor="system:sweeper"),
    )

    active_key = rating.reviewer_key(book, ReviewerName(first_name="Active", last_name="Lovelace"))
    assert reservations.current(rating.REVIEWER_RESERVATION, key).holder is None
    kept = reservations.current(rating.REVIEWER_RESERVATION, active_key).holder
    assert kept is not None
    assert kept.owner_id == active
