"""The process "catalog rating update": given a FeedbackCreated, when the process runs, then the
feedback is rejected exactly when its book is missing or deleted, once however often the event
comes, in the flow's correlation."""

from __future__ import annotations

import uuid

import pytest

from tests.domain.contexts import events_of, given_book, types_of
from write_side.catalog import DeleteBook, RepositoryBookLookup
from write_side.domain import CommandBus, Repository
from write_side.eventstore import EventStore
from write_side.ids import derive_id
from write_side.rating import (
    CatalogRatingUpdate,
    CreateFeedback,
    DeleteFeedback,
    Feedback,
    FeedbackRejected,
    RejectionReason,
)


@pytest.fixture
def process(bus: CommandBus, repository: Repository) -> CatalogRatingUpdate:
    """The process manager over the real book lookup and command bus."""
    return CatalogRatingUpdate(RepositoryBookLookup(repository), bus.dispatch)


def feedback_on(bus: CommandBus, book_id: uuid.UUID, rating: int = 4) -> uuid.UUID:
    command = CreateFeedback(book_id=book_id, first_name="Ada", last_name="Lovelace", rating=rating)
    return bus.dispatch(command).aggregate_id


def test_feedback_on_an_existing_book_stays(
    bus: CommandBus, repository: Repository, event_store: EventStore, process: CatalogRatingUpdate
) -> None:
    start = event_store.head_position()
    feedback_id = feedback_on(bus, given_book(bus))

    process.run_once(event_store, start)

    assert types_of(events_of(repository, Feedback.stream_for(feedback_id))) == ["FeedbackCreated"]


def test_feedback_on_a_missing_book_is_rejected(
    bus: CommandBus, repository: Repository, event_store: EventStore, process: CatalogRatingUpdate
) -> None:
    start = event_store.head_position()
    book_id = uuid.uuid4()
    feedback_id = feedback_on(bus, book_id, rating=1)

    process.run_once(event_store, start)

    assert events_of(repository, Feedback.stream_for(feedback_id))[1:] == [
        FeedbackRejected(book_id=book_id, rating=1, reason=RejectionReason.BOOK_NOT_FOUND)
    ]


def test_feedback_on_a_deleted_book_is_rejected(
    bus: CommandBus, repository: Repository, event_store: EventStore, process: CatalogRatingUpdate
) -> None:
    book_id = given_book(bus)
    bus.dispatch(DeleteBook(book_id=book_id))
    start = event_store.head_position()
    feedback_id = feedback_on(bus, book_id, rating=3)

    process.run_once(event_store, start)

    assert events_of(repository, Feedback.stream_for(feedback_id))[1:] == [
        FeedbackRejected(book_id=book_id, rating=3, reason=RejectionReason.BOOK_DELETED)
    ]


def test_a_redelivered_event_rejects_once(
    bus: CommandBus, repository: Repository, event_store: EventStore, process: CatalogRatingUpdate
) -> None:
    start = event_store.head_position()
    feedback_id = feedback_on(bus, uuid.uuid4())
    [created] = list(event_store.read_all_after(start, filter=process.filter))
    stored = repository.registry.decode(created)

    first = process.handle(stored)
    again = process.handle(repository.registry.decode(created))
    process.run_once(event_store, start)  # a catch-up from an older checkpoint: once more

    assert first is not None
    assert again is not None
    assert again.replayed
    assert (again.revision, again.position) == (first.revision, first.position)
    assert types_of(events_of(repository, Feedback.stream_for(feedback_id))) == [
        "FeedbackCreated",
        "FeedbackRejected",
    ]


def test_the_rejection_joins_the_flow_of_the_feedback(
    bus: CommandBus, repository: Repository, event_store: EventStore, process: CatalogRatingUpdate
) -> None:
    start = event_store.head_position()
    feedback_id = feedback_on(bus, uuid.uuid4())

    process.run_once(event_store, start)

    created, rejected = (
        repository.registry.decode(recorded)
        for recorded in event_store.read_stream(Feedback.stream_for(feedback_id))
    )
    assert created.metadata is not None
    assert rejected.metadata is not None
    assert rejected.metadata.correlation_id == created.metadata.correlation_id
    assert rejected.metadata.causation_id == created.id
    assert rejected.metadata.command_id == derive_id(created.id, CatalogRatingUpdate.name)
    assert rejected.metadata.actor == "system:catalog_rating_update"


def test_feedback_deleted_before_the_process_looks_is_left_alone(
    bus: CommandBus, repository: Repository, event_store: EventStore, process: CatalogRatingUpdate
) -> None:
    start = event_store.head_position()
    feedback_id = feedback_on(bus, uuid.uuid4())
    bus.dispatch(DeleteFeedback(feedback_id=feedback_id))

    process.run_once(event_store, start)

    assert types_of(events_of(repository, Feedback.stream_for(feedback_id))) == [
        "FeedbackCreated",
        "FeedbackDeleted",
    ]


def test_run_once_resumes_after_the_position_it_returned(
    bus: CommandBus, repository: Repository, event_store: EventStore, process: CatalogRatingUpdate
) -> None:
    start = event_store.head_position()
    first, second = feedback_on(bus, uuid.uuid4()), feedback_on(bus, uuid.uuid4())

    after_one = process.run_once(event_store, start, limit=1)
    after_both = process.run_once(event_store, after_one)
    idle = process.run_once(event_store, after_both)
    third = feedback_on(bus, uuid.uuid4())
    after_three = process.run_once(event_store, idle)

    rejected = [
        types_of(events_of(repository, Feedback.stream_for(id)))[-1]
        for id in (first, second, third)
    ]
    assert rejected == ["FeedbackRejected"] * 3
    assert idle == after_both  # nothing new: the same checkpoint
    created_positions = [
        event.position for event in event_store.read_all_after(start, filter=process.filter)
    ]
    assert created_positions == [after_one, after_both, after_three]


def test_events_of_other_types_are_ignored(
    bus: CommandBus, repository: Repository, event_store: EventStore, process: CatalogRatingUpdate
) -> None:
    book_id = given_book(bus)
    [book_created] = event_store.read_stream(f"book-{book_id}")

    assert process.handle(repository.registry.decode(book_created)) is None
