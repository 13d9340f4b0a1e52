"""Contract: `$all` reads in commit order, with filters, and the head position."""

from __future__ import annotations

import uuid

from tests.contracts.helpers import events
from write_side.eventstore import (
    EventFilter,
    EventStore,
    RecordedEvent,
    StreamMetadata,
    StreamState,
)


def _mine(found: list[RecordedEvent], tag: str) -> list[RecordedEvent]:
    """Only this test's events, so the test holds on a store shared with other tests."""
    return [e for e in found if tag in e.stream]


def test_read_all_returns_every_stream_in_commit_order(event_store: EventStore) -> None:
    """Given appends to three streams, `$all` holds them all, positions strictly increasing."""
    tag = uuid.uuid4().hex
    first = event_store.append(f"a{tag}-1", events(2), expected_version=StreamState.NO_STREAM)
    event_store.append(f"b{tag}-1", events(1), expected_version=StreamState.NO_STREAM)
    event_store.append(f"a{tag}-1", events(1), expected_version=1)

    found = _mine(list(event_store.read_all(from_position=first - 1)), tag)

    assert [(e.stream, e.revision) for e in found] == [
        (f"a{tag}-1", 0),
        (f"a{tag}-1", 1),
        (f"b{tag}-1", 0),
        (f"a{tag}-1", 2),
    ]
    positions = [e.position for e in found]
    assert positions == sorted(set(positions))


def test_from_position_is_inclusive_and_backwards_reads_down(event_store: EventStore) -> None:
    """A read of `$all` from a position includes the event at that position."""
    tag = uuid.uuid4().hex
    positions = [
        event_store.append(f"s{tag}-{n}", events(1), expected_version=StreamState.NO_STREAM)
        for n in range(4)
    ]

    forwards = _mine(list(event_store.read_all(from_position=positions[1])), tag)
    assert [e.position for e in forwards] == positions[1:]

    backwards = _mine(list(event_store.read_all(from_position=positions[2], backwards=True)), tag)
    assert [e.position for e in backwards] == [positions[2], positions[1], positions[0]]

    limited = list(event_store.read_all(from_position=positions[0], limit=2))
    assert [e.position for e in limited] == positions[:2]


def test_read_all_after_starts_strictly_after_a_position(event_store: EventStore) -> None:
    """A consumer's checkpoint is the last position it handled: it reads what comes after."""
    tag = uuid.uuid4().hex
    positions = [
        event_store.append(f"s{tag}-{n}", events(1), expected_version=StreamState.NO_STREAM)
        for n in range(3)
    ]

    after = _mine(list(event_store.read_all_after(positions[0])), tag)
    from_start = _mine(list(event_store.read_all_after(None)), tag)
    filtered = list(
        event_store.read_all_after(positions[0], filter=EventFilter.stream_prefixes(f"s{tag}-2"))
    )

    assert [e.position for e in after] == positions[1:]
    assert [e.position for e in from_start] == positions
    assert [e.position for e in filtered] == positions[2:]


def test_filters_on_stream_names_and_event_types(event_store: EventStore) -> None:
    """One filter per read: a stream-name prefix or exact event types, include or exclude."""
    tag = uuid.uuid4().hex
    start = event_store.append(
        f"book{tag}-1", events(1, type="BookCreated"), expected_version=StreamState.NO_STREAM
    )
    event_store.append(
        f"order{tag}-1", events(1, type="OrderPlaced"), expected_version=StreamState.NO_STREAM
    )
    event_store.append(f"book{tag}-1", events(1, type="BookPriceChanged"), expected_version=0)

    def types(event_filter: EventFilter) -> list[str]:
        found = event_store.read_all(from_position=start, filter=event_filter)
        return [e.type for e in _mine(list(found), tag)]

    assert types(EventFilter.stream_prefixes(f"book{tag}")) == ["BookCreated", "BookPriceChanged"]
    assert types(EventFilter.stream_prefixes(f"book{tag}", exclude=True)) == ["OrderPlaced"]
    assert types(EventFilter.event_types("OrderPlaced", "BookCreated")) == [
        "BookCreated",
        "OrderPlaced",
    ]
    assert types(EventFilter.event_types("BookCreated", exclude=True)) == [
        "OrderPlaced",
        "BookPriceChanged",
    ]
    assert types(EventFilter("event_type", r"^Book.*Changed$")) == ["BookPriceChanged"]
    # A prefix filter is anchored: "ook" is no prefix of "book…".
    assert types(EventFilter.stream_prefixes(f"ook{tag}")) == []


def test_system_and_snapshot_streams_are_left_out_by_default(event_store: EventStore) -> None:
    """`$`-prefixed and snapshot streams appear only when asked for."""
    tag = uuid.uuid4().hex
    start = event_store.append(f"book{tag}-1", events(1), expected_version=StreamState.NO_STREAM)
    event_store.append(
        f"snapshot-book{tag}-1", events(1, type="Snapshot"), expected_version=StreamState.NO_STREAM
    )
    event_store.set_stream_metadata(
        f"book{tag}-1", StreamMetadata(max_count=5), expected_version=StreamState.NO_STREAM
    )

    default = _mine(list(event_store.read_all(from_position=start)), tag)
    everything = _mine(list(event_store.read_all(from_position=start, include_system=True)), tag)

    assert [e.stream for e in default] == [f"book{tag}-1"]
    assert [e.stream for e in everything] == [
        f"book{tag}-1",
        f"snapshot-book{tag}-1",
        f"$$book{tag}-1",
    ]
    assert everything[-1].type == "$metadata"
    assert everything[-1].is_system


def test_head_position_follows_the_last_matching_event(event_store: EventStore) -> None:
    """The head is the last non-system event's position; a filter narrows it."""
    tag = uuid.uuid4().hex
    book = event_store.append(
        f"book{tag}-1", events(1, type="BookCreated"), expected_version=StreamState.NO_STREAM
    )
    order = event_store.append(
        f"order{tag}-1", events(1, type="OrderPlaced"), expected_version=StreamState.NO_STREAM
    )
    event_store.set_stream_metadata(
        f"order{tag}-1", StreamMetadata(max_count=1), expected_version=StreamState.NO_STREAM
    )

    assert event_store.head_position() == order
    assert event_store.head_position(EventFilter.stream_prefixes(f"book{tag}")) == book
    assert event_store.head_position(EventFilter.stream_prefixes(f"none{tag}")) is None


def test_an_empty_store_has_no_head(empty_store: EventStore) -> None:
    """A store with no events reports no head and reads nothing."""
    assert empty_store.head_position() is None
    assert list(empty_store.read_all()) == []


def test_read_all_pages_through_many_events(event_store: EventStore) -> None:
    """A read longer than one internal page returns every event once, in order."""
    tag = uuid.uuid4().hex
    start = event_store.append(f"bulk{tag}-0", events(100), expected_version=StreamState.NO_STREAM)
    for n in range(1, 50):
        event_store.append(f"bulk{tag}-{n}", events(100), expected_version=StreamState.NO_STREAM)

    found = _mine(list(event_store.read_all(from_position=start - 99)), tag)

    assert len(found) == 5000
    assert len({e.id for e in found}) == 5000
    assert [e.position for e in found] == sorted(e.position for e in found)
