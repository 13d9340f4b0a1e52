"""Contract: appends with expected versions, idempotent retries, and stream reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.contracts.helpers import Names, events
from write_side.eventstore import (
    EventStore,
    InvalidStreamName,
    NewEvent,
    StreamNotFound,
    StreamState,
    WrongExpectedVersion,
)


def test_an_append_is_read_back_exactly(event_store: EventStore, stream: Names) -> None:
    """Given a new stream, when two events are appended, then reads return every field."""
    name = stream("book")
    new = events(2)
    before = datetime.now(UTC) - timedelta(seconds=5)

    position = event_store.append(name, new, expected_version=StreamState.NO_STREAM)

    read = event_store.read_stream(name)
    assert [e.id for e in read] == [e.id for e in new]
    assert [(e.type, e.data, e.metadata, e.content_type) for e in read] == [
        (e.type, e.data, e.metadata, e.content_type) for e in new
    ]
    assert [e.stream for e in read] == [name, name]
    assert [e.revision for e in read] == [0, 1]
    assert read[0].position < read[1].position == position
    assert all(before <= e.recorded_at <= datetime.now(UTC) + timedelta(seconds=5) for e in read)
    assert all(e.recorded_at.tzinfo is not None for e in read)


def test_revisions_are_gapless_across_appends(event_store: EventStore, stream: Names) -> None:
    """Given appends of 1, 3 and 2 events, the stream's revisions run 0..5 without a gap."""
    name = stream("order")
    event_store.append(name, events(1), expected_version=StreamState.NO_STREAM)
    event_store.append(name, events(3), expected_version=0)
    event_store.append(name, events(2), expected_version=3)

    assert [e.revision for e in event_store.read_stream(name)] == [0, 1, 2, 3, 4, 5]


def test_positions_increase_across_streams(event_store: EventStore, stream: Names) -> None:
    """Commit positions grow with every append, whatever the stream (never assumed +1)."""
    positions = [
        event_store.append(stream("s"), events(1), expected_version=StreamState.NO_STREAM)
        for _ in range(5)
    ]
    assert positions == sorted(positions)
    assert len(set(positions)) == 5


@pytest.mark.parametrize(
    ("expected", "actual"),
    [(StreamState.NO_STREAM, 1), (0, 1), (5, 1)],
    ids=["no_stream", "stale", "ahead"],
)
def test_a_wrong_expected_version_writes_nothing(
    event_store: EventStore, stream: Names, expected: int | StreamState, actual: int
) -> None:
    """Given a stream at revision 1, an append expecting anything else is refused whole."""
    name = stream("book")
    event_store.append(name, events(2), expected_version=StreamState.NO_STREAM)
    head = event_store.head_position()

    with pytest.raises(WrongExpectedVersion) as caught:
        event_store.append(name, events(3), expected_version=expected)

    assert caught.value.actual_version == actual
    assert caught.value.stream == name
    assert len(event_store.read_stream(name)) == 2
    assert event_store.head_position() == head


def test_stream_exists_needs_a_stream(event_store: EventStore, stream: Names) -> None:
    """STREAM_EXISTS is refused on a new stream and accepted once it has events."""
    name = stream("book")
    with pytest.raises(WrongExpectedVersion) as caught:
        event_store.append(name, events(1), expected_version=StreamState.STREAM_EXISTS)
    assert caught.value.actual_version is None
    with pytest.raises(StreamNotFound):
        event_store.read_stream(name)

    event_store.append(name, events(1), expected_version=StreamState.NO_STREAM)
    event_store.append(name, events(1), expected_version=StreamState.STREAM_EXISTS)
    assert len(event_store.read_stream(name)) == 2


def test_any_appends_whatever_the_version(event_store: EventStore, stream: Names) -> None:
    """ANY creates a stream and appends to an existing one."""
    name = stream("book")
    event_store.append(name, events(1), expected_version=StreamState.ANY)
    event_store.append(name, events(1), expected_version=StreamState.ANY)
    assert [e.revision for e in event_store.read_stream(name)] == [0, 1]


@pytest.mark.parametrize(
    ("existing", "expected"),
    [(0, StreamState.NO_STREAM), (1, StreamState.ANY), (1, 0), (2, StreamState.STREAM_EXISTS)],
    ids=["no_stream", "any", "exact", "stream_exists"],
)
def test_appending_the_same_ids_again_is_idempotent(
    event_store: EventStore, stream: Names, existing: int, expected: int | StreamState
) -> None:
    """Given an append, the same event ids with the same expected version write nothing
    and return the first append's position."""
    name = stream("feedback")
    if existing:
        event_store.append(name, events(existing), expected_version=StreamState.NO_STREAM)
    batch = events(3)
    first = event_store.append(name, batch, expected_version=expected)
    head = event_store.head_position()

    again = event_store.append(name, batch, expected_version=expected)

    assert again == first
    assert event_store.head_position() == head
    assert [e.id for e in event_store.read_stream(name)][existing:] == [e.id for e in batch]


def test_a_retry_with_other_ids_is_a_conflict(event_store: EventStore, stream: Names) -> None:
    """Only the very same ids make a retry: other events at a stale version conflict."""
    name = stream("basket")
    batch = events(2)
    event_store.append(name, batch, expected_version=StreamState.NO_STREAM)
    with pytest.raises(WrongExpectedVersion):
        event_store.append(name, [batch[0], *events(1)], expected_version=StreamState.NO_STREAM)
    with pytest.raises(WrongExpectedVersion):
        event_store.append(name, events(2), expected_version=StreamState.NO_STREAM)
    assert len(event_store.read_stream(name)) == 2


def test_reading_a_stream_forwards_backwards_and_limited(
    event_store: EventStore, stream: Names
) -> None:
    """from_revision is inclusive in both directions; limit caps the count."""
    name = stream("order")
    event_store.append(name, events(10), expected_version=StreamState.NO_STREAM)

    def revisions(**kwargs: object) -> list[int]:
        return [e.revision for e in event_store.read_stream(name, **kwargs)]  # type: ignore[arg-type]

    assert revisions(from_revision=7) == [7, 8, 9]
    assert revisions(limit=3) == [0, 1, 2]
    assert revisions(from_revision=2, limit=2) == [2, 3]
    assert revisions(backwards=True, limit=3) == [9, 8, 7]
    assert revisions(backwards=True, from_revision=2) == [2, 1, 0]
    assert revisions(from_revision=10) == []


def test_reading_a_missing_stream_is_not_found(event_store: EventStore, stream: Names) -> None:
    """A stream never written reads as StreamNotFound, naming the stream."""
    name = stream("book")
    with pytest.raises(StreamNotFound) as caught:
        event_store.read_stream(name)
    assert caught.value.stream == name


def test_bad_arguments_are_refused_clearly(event_store: EventStore, stream: Names) -> None:
    """Empty batches, negative or mistyped versions and bad names raise before writing."""
    name = stream("book")
    with pytest.raises(ValueError, match="at least one event"):
        event_store.append(name, [], expected_version=StreamState.ANY)
    with pytest.raises(ValueError, match=">= 0"):
        event_store.append(name, events(1), expected_version=-1)
    with pytest.raises(TypeError):
        event_store.append(name, events(1), expected_version="0")  # type: ignore[arg-type]
    with pytest.raises(InvalidStreamName):
        event_store.append("", events(1), expected_version=StreamState.ANY)
    with pytest.raises(InvalidStreamName):
        event_store.append(f"$${name}", events(1), expected_version=StreamState.ANY)
    with pytest.raises(StreamNotFound):
        event_store.read_stream(name)


def test_event_ids_and_payloads_survive_any_bytes(event_store: EventStore, stream: Names) -> None:
    """Data and metadata are opaque bytes, stored and returned unchanged."""
    name = stream("blob")
    payload = bytes(range(256)) * 4
    new = NewEvent(
        type="Binary", data=payload, metadata=b"", content_type="application/octet-stream"
    )
    event_store.append(name, [new], expected_version=StreamState.NO_STREAM)
    (read,) = event_store.read_stream(name)
    assert (read.id, read.data, read.metadata, read.content_type) == (
        new.id,
        payload,
        b"",
        "application/octet-stream",
    )
