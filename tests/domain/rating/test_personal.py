"""Reviewer names are personal data: never in the clear in any stored event or stream name, and
erased (everything else intact) once the feedback's key is forgotten."""

from __future__ import annotations

import uuid

from tests.domain.contexts import events_of, given_book
from write_side.catalog import RepositoryBookLookup
from write_side.domain import CommandBus, Repository
from write_side.eventstore import EventStore
from write_side.keystore import SqliteKeyStore
from write_side.rating import (
    CatalogRatingUpdate,
    CreateFeedback,
    DeleteFeedback,
    Feedback,
    FeedbackCreated,
    FeedbackStatus,
)

FIRST, LAST = "Grace", "Hopper"


def review(bus: CommandBus, book_id: uuid.UUID) -> uuid.UUID:
    command = CreateFeedback(
        book_id=book_id, first_name=FIRST, last_name=LAST, comment="Clear prose.", rating=5
    )
    return bus.dispatch(command).aggregate_id


def test_no_reviewer_name_in_the_clear_in_any_event_or_stream_name(
    bus: CommandBus, repository: Repository, event_store: EventStore
) -> None:
    start = event_store.head_position()
    feedback_id = review(bus, uuid.uuid4())
    bus.dispatch(DeleteFeedback(feedback_id=feedback_id))  # its claim is released too

    written = list(event_store.read_all_after(start, include_system=True))

    assert {event.type for event in written} >= {
        "FeedbackCreated",
        "FeedbackDeleted",
        "ReservationMade",
        "ReservationReleased",
    }
    for event in written:
        for text in (event.stream, event.data.decode(), event.metadata.decode()):
            assert FIRST.casefold() not in text.casefold()
            assert LAST.casefold() not in text.casefold()
    created = events_of(repository, Feedback.stream_for(feedback_id))[0]
    assert isinstance(created, FeedbackCreated)
    assert created.reviewer.require().last_name == LAST  # readable while the key exists


def test_forgetting_the_key_erases_the_names_and_leaves_the_rest(
    bus: CommandBus, repository: Repository, keys: SqliteKeyStore
) -> None:
    book_id = uuid.uuid4()
    feedback_id = review(bus, book_id)

    assert keys.forget(feedback_id)

    [created] = events_of(repository, Feedback.stream_for(feedback_id))
    assert isinstance(created, FeedbackCreated)
    assert created.reviewer.erased
    assert created.reviewer.value is None
    assert (created.feedback_id, created.book_id) == (feedback_id, book_id)
    assert (created.comment, created.rating) == ("Clear prose.", 5)
    feedback = repository.load(Feedback, feedback_id)
    assert feedback.reviewer is not None
    assert feedback.reviewer.erased
    assert (feedback.book_id, feedback.rating, feedback.status) == (
        book_id,
        5,
        FeedbackStatus.ACTIVE,
    )


def test_an_erased_feedback_still_takes_its_commands(
    bus: CommandBus, repository: Repository, event_store: EventStore, keys: SqliteKeyStore
) -> None:
    start = event_store.head_position()
    rejected, deleted = review(bus, uuid.uuid4()), review(bus, given_book(bus))
    keys.forget(rejected)
    keys.forget(deleted)

    CatalogRatingUpdate(RepositoryBookLookup(repository), bus.dispatch).run_once(event_store, start)
    bus.dispatch(DeleteFeedback(feedback_id=deleted))

    assert repository.load(Feedback, rejected).status is FeedbackStatus.REJECTED
    assert repository.load(Feedback, deleted).status is FeedbackStatus.DELETED
