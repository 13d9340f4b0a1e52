"""Integration events: given real commands, when the recorder runs, then each published domain
event is one integration event in `integration-{type}`, named and keyed as DOMAIN.md says,
with a message id derived from its source, its creation time and correlation; recording again
(a restart, a second recorder, a replay from the start) writes nothing twice."""

from __future__ import annotations

import queue
import threading
from decimal import Decimal

import pytest

from tests.domain.integration.conftest import History, published
from write_side.domain import Repository
from write_side.eventstore import EventStore, EventStoreClosed, RecordedEvent, StreamNotFound
from write_side.ids import derive_id
from write_side.integration import (
    INTEGRATION_EVENTS,
    BasketDeletedCompleteIntegrationEvent,
    BasketDeletedFailedIntegrationEvent,
    BookUpdatedRatingFailedIntegrationEvent,
    FeedbackCreatedIntegrationEvent,
    FeedbackDeletedIntegrationEvent,
    IntegrationEvent,
    IntegrationEventRecorder,
    OrderStatusChangedToCancelIntegrationEvent,
    OrderStatusChangedToCompleteIntegrationEvent,
    UserCheckedOutIntegrationEvent,
)
from write_side.integration.recorder import _take

SOURCE_OF = {
    "FeedbackCreated": FeedbackCreatedIntegrationEvent,
    "FeedbackDeleted": FeedbackDeletedIntegrationEvent,
    "FeedbackRejected": BookUpdatedRatingFailedIntegrationEvent,
    "OrderPlaced": UserCheckedOutIntegrationEvent,
    "BasketCheckedOut": BasketDeletedCompleteIntegrationEvent,
    "BasketCheckoutFailed": BasketDeletedFailedIntegrationEvent,
    "OrderCompleted": OrderStatusChangedToCompleteIntegrationEvent,
    "OrderCancelled": OrderStatusChangedToCancelIntegrationEvent,
}


def test_each_published_domain_event_is_one_integration_event(
    history: History, recorder: IntegrationEventRecorder
) -> None:
    recorder.run_once()

    messages = published(history)
    sources = {event.id: event for events in history.sources.values() for event in events}
    expected = sorted(
        (
            event
            for events in history.sources.values()
            for event in events
            if event.type in SOURCE_OF
        ),
        key=lambda event: event.position,
    )
    assert [type(m) for m in messages] == [SOURCE_OF[event.type] for event in expected]
    assert len(messages) == 10
    for message in messages:
        source = sources[message.source_event_id]
        assert source.metadata is not None
        assert message.message_id == derive_id(source.id, "integration")
        assert message.correlation_id == source.metadata.correlation_id
        assert message.created_at == source.metadata.occurred_at
        assert message.source_position == source.position


def test_names_streams_and_partition_keys(
    history: History, recorder: IntegrationEventRecorder, repository: Repository
) -> None:
    recorder.run_once()

    messages = published(history)
    shipped, cancelled = history.orders
    by_type: dict[str, list[IntegrationEvent]] = {}
    for message in messages:
        by_type.setdefault(type(message).event_type, []).append(message)
    assert sorted(by_type) == sorted(kind.event_type for kind in INTEGRATION_EVENTS)
    dune, emma = history.books
    created = by_type["FeedbackCreatedIntegrationEvent"]
    assert [(m.partition_key, m.book_id, m.rating) for m in created] == [  # type: ignore[attr-defined]
        (str(dune), dune, 5),
        (str(emma), emma, 3),
    ]
    [deleted] = by_type["FeedbackDeletedIntegrationEvent"]
    assert isinstance(deleted, FeedbackDeletedIntegrationEvent)
    assert (deleted.partition_key, deleted.feedback_id) == (str(dune), history.feedbacks[0])
    [failed_rating] = by_type["BookUpdatedRatingFailedIntegrationEvent"]
    assert isinstance(failed_rating, BookUpdatedRatingFailedIntegrationEvent)
    assert (failed_rating.partition_key, failed_rating.feedback_id) == (
        str(emma),
        history.feedbacks[1],
    )
    checked_out = by_type["UserCheckedOutIntegrationEvent"]
    assert [m.partition_key for m in checked_out] == [str(shipped), str(cancelled)]
    assert [m.total_money for m in checked_out] == [Decimal("29.98"), Decimal("9.99")]  # type: ignore[attr-defined]
    [complete] = by_type["BasketDeletedCompleteIntegrationEvent"]
    assert isinstance(complete, BasketDeletedCompleteIntegrationEvent)
    assert (complete.partition_key, complete.basket_id, complete.total_money) == (
        str(shipped),
        history.buyer,
        Decimal("29.98"),
    )
    [failed] = by_type["BasketDeletedFailedIntegrationEvent"]
    assert isinstance(failed, BasketDeletedFailedIntegrationEvent)
    assert (failed.partition_key, failed.reason) == (str(cancelled), "basket_changed")
    [done] = by_type["OrderStatusChangedToCompleteIntegrationEvent"]
    [cancel] = by_type["OrderStatusChangedToCancelIntegrationEvent"]
    assert isinstance(done, OrderStatusChangedToCompleteIntegrationEvent)
    assert isinstance(cancel, OrderStatusChangedToCancelIntegrationEvent)
    assert (done.partition_key, done.basket_id, done.total_money) == (
        str(shipped),
        history.buyer,
        Decimal("29.98"),
    )
    assert (cancel.partition_key, cancel.total_money) == (str(cancelled), Decimal("9.99"))
    stream = repository.store.read_stream("integration-UserCheckedOutIntegrationEvent")
    assert {raw.id for raw in stream} >= {m.message_id for m in checked_out}


def test_the_messages_of_one_order_keep_the_order_of_their_sources(
    history: History, recorder: IntegrationEventRecorder
) -> None:
    recorder.run_once()

    shipped, cancelled = history.orders
    per_order = {
        key: [type(m).event_type for m in published(history) if m.partition_key == key]
        for key in (str(shipped), str(cancelled))
    }
    assert per_order == {
        str(shipped): [
            "UserCheckedOutIntegrationEvent",
            "BasketDeletedCompleteIntegrationEvent",
            "OrderStatusChangedToCompleteIntegrationEvent",
        ],
        str(cancelled): [
            "UserCheckedOutIntegrationEvent",
            "BasketDeletedFailedIntegrationEvent",
            "OrderStatusChangedToCancelIntegrationEvent",
        ],
    }


def test_what_is_read_together_is_appended_in_the_order_of_its_sources(
    history: History, recorder: IntegrationEventRecorder
) -> None:
    """`record_all` (what the running recorder does with each read): runs of one type are
    appended together, and `$all` still holds every message in the order of its source."""
    sources = sorted(
        (event for events in history.sources.values() for event in events),
        key=lambda event: event.position,
    )

    appended = recorder.record_all(sources)

    messages = published(history)  # in $all order
    assert [m.source_position for m in messages] == sorted(m.source_position for m in appended)
    assert len(messages) == 10
    assert recorder.record_all(sources) == []


def test_the_reader_hands_over_what_it_read_then_its_end_or_error() -> None:
    """The running recorder's queue: a take gets everything read so far; a reader's error
    comes after the events before it, and the end of the subscription ends the takes."""
    events = [_recorded(position) for position in (1, 2, 3)]
    read: queue.Queue[RecordedEvent | BaseException | None] = queue.Queue()
    for event in events[:2]:
        read.put(event)
    read.put(EventStoreClosed("gone"))
    running = threading.Event()
    assert _take(read, running) == (events[:2], False)
    with pytest.raises(EventStoreClosed):
        _take(read, running)
    read.put(events[2])
    read.put(None)
    assert _take(read, running) == ([events[2]], True)


def _recorded(position: int) -> RecordedEvent:
    return RecordedEvent.from_row(
        (b"\0" * 16, "A", b"{}", b"", "application/json", "a-1", position, position, 0)
    )


def test_recording_again_writes_nothing_twice(
    history: History, recorder: IntegrationEventRecorder, event_store: EventStore
) -> None:
    recorder.run_once()
    first = published(history)

    assert recorder.run_once() == 0  # caught up
    restarted = IntegrationEventRecorder(event_store, recorder.registry)
    assert restarted.run_once() == 0  # a restart derives its checkpoint from the streams
    replayed = [
        restarted.record(event) for events in history.sources.values() for event in events
    ]  # every source again, as after a lost checkpoint
    assert replayed == [None] * len(replayed)

    assert published(history) == first


def test_two_recorders_at_once_write_each_message_once(
    history: History, event_store: EventStore, recorder: IntegrationEventRecorder
) -> None:
    other = IntegrationEventRecorder(event_store, recorder.registry)
    sources = sorted(
        (event for events in history.sources.values() for event in events),
        key=lambda event: event.position,
    )
    # Both know every stream as it is now, then race source by source.
    recorder.checkpoint()
    other.checkpoint()

    for source in sources:
        recorder.record(source)
        other.record(source)  # its expected version is stale, or the store knows the event id

    messages = published(history)
    assert len(messages) == 10
    assert len({message.message_id for message in messages}) == 10


def test_the_recorder_follows_new_events_until_stopped(
    history: History, event_store: EventStore, recorder: IntegrationEventRecorder
) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=recorder.run, args=(stop,))
    thread.start()
    try:
        for _ in range(400):
            if len(published(history)) == 10:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(10)

    assert not thread.is_alive()
    assert len(published(history)) == 10


def test_other_events_publish_nothing(
    history: History, recorder: IntegrationEventRecorder, event_store: EventStore
) -> None:
    [book_created] = event_store.read_stream(f"book-{history.books[0]}", limit=1)

    assert recorder.record(recorder.registry.decode(book_created)) is None
    with pytest.raises(StreamNotFound):
        event_store.read_stream("integration-BookCreatedIntegrationEvent")
