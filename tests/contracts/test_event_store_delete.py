"""Contract: soft delete (re-openable) and tombstone (never again), as EventStoreDB does them."""

from __future__ import annotations

import pytest

from tests.contracts.helpers import Names, events
from write_side.eventstore import (
    EventFilter,
    EventStore,
    StreamDeleted,
    StreamMetadata,
    StreamNotFound,
    StreamState,
    WrongExpectedVersion,
)


def test_a_soft_deleted_stream_reads_as_not_found(event_store: EventStore, stream: Names) -> None:
    """Given a stream at revision 1, after a soft delete a stream read finds nothing."""
    name = stream("book")
    event_store.append(name, events(2), expected_version=StreamState.NO_STREAM)

    event_store.delete_stream(name, expected_version=1)

    with pytest.raises(StreamNotFound):
        event_store.read_stream(name)
    assert event_store.get_stream_metadata(name)[0].is_deleted


@pytest.mark.parametrize(
    "reopen_with", [StreamState.NO_STREAM, StreamState.ANY, 1], ids=["no_stream", "any", "last"]
)
def test_an_append_reopens_a_soft_deleted_stream(
    event_store: EventStore, stream: Names, reopen_with: int | StreamState
) -> None:
    """Revisions go on after the last one; the old events stay hidden; `$tb` says where."""
    name = stream("basket")
    event_store.append(name, events(2), expected_version=StreamState.NO_STREAM)
    event_store.delete_stream(name, expected_version=1)

    event_store.append(name, events(3), expected_version=reopen_with)

    assert [e.revision for e in event_store.read_stream(name)] == [2, 3, 4]
    metadata, version = event_store.get_stream_metadata(name)
    assert metadata.truncate_before == 2
    assert version == 1
    with pytest.raises(WrongExpectedVersion):
        event_store.append(name, events(1), expected_version=StreamState.NO_STREAM)


def test_reopening_keeps_the_other_metadata(event_store: EventStore, stream: Names) -> None:
    """Custom keys and `$maxCount` survive a soft delete and re-open; only `$tb` moves."""
    name = stream("basket")
    event_store.append(name, events(2), expected_version=StreamState.NO_STREAM)
    event_store.set_stream_metadata(
        name,
        StreamMetadata(max_count=100, custom={"owner": "basket"}),
        expected_version=StreamState.NO_STREAM,
    )
    event_store.delete_stream(name, expected_version=1)
    event_store.append(name, events(1), expected_version=StreamState.ANY)

    metadata, _ = event_store.get_stream_metadata(name)
    assert metadata == StreamMetadata(max_count=100, truncate_before=2, custom={"owner": "basket"})


def test_deleted_events_remain_in_all(event_store: EventStore, stream: Names) -> None:
    """A soft delete hides from stream reads, not from `$all`."""
    name = stream("book")
    start = event_store.append(name, events(2), expected_version=StreamState.NO_STREAM) - 1
    event_store.delete_stream(name, expected_version=StreamState.ANY)

    found = event_store.read_all(from_position=start, filter=EventFilter.stream_prefixes(name))
    assert [e.revision for e in found] == [0, 1]


def test_a_delete_checks_the_expected_version(event_store: EventStore, stream: Names) -> None:
    """A delete at a stale version is refused and the stream stays readable."""
    name = stream("book")
    event_store.append(name, events(2), expected_version=StreamState.NO_STREAM)
    with pytest.raises(WrongExpectedVersion):
        event_store.delete_stream(name, expected_version=0)
    with pytest.raises(WrongExpectedVersion):
        event_store.tombstone_stream(name, expected_version=StreamState.NO_STREAM)
    assert len(event_store.read_stream(name)) == 2


def test_a_tombstoned_stream_is_gone_for_good(event_store: EventStore, stream: Names) -> None:
    """After a tombstone every read, write, delete and metadata call says StreamDeleted."""
    name = stream("order")
    start = event_store.append(name, events(2), expected_version=StreamState.NO_STREAM) - 1

    event_store.tombstone_stream(name, expected_version=1)

    with pytest.raises(StreamDeleted):
        event_store.read_stream(name)
    for expected in (StreamState.ANY, StreamState.NO_STREAM, 1):
        with pytest.raises(StreamDeleted):
            event_store.append(name, events(1), expected_version=expected)
    with pytest.raises(StreamDeleted):
        event_store.delete_stream(name, expected_version=StreamState.ANY)
    with pytest.raises(StreamDeleted):
        event_store.tombstone_stream(name, expected_version=StreamState.ANY)
    with pytest.raises(StreamDeleted):
        event_store.get_stream_metadata(name)
    with pytest.raises(StreamDeleted):
        event_store.set_stream_metadata(
            name, StreamMetadata(max_count=1), expected_version=StreamState.ANY
        )
    found = event_store.read_all(from_position=start, filter=EventFilter.stream_prefixes(name))
    assert [e.revision for e in found] == [0, 1]


def test_a_soft_deleted_stream_can_be_tombstoned(event_store: EventStore, stream: Names) -> None:
    """Soft delete, then tombstone: the stream is gone for good."""
    name = stream("book")
    event_store.append(name, events(2), expected_version=StreamState.NO_STREAM)
    event_store.delete_stream(name, expected_version=1)
    event_store.tombstone_stream(name, expected_version=StreamState.ANY)
    with pytest.raises(StreamDeleted):
        event_store.read_stream(name)
    with pytest.raises(StreamDeleted):
        event_store.append(name, events(1), expected_version=StreamState.NO_STREAM)


def test_a_never_written_stream_can_be_tombstoned(event_store: EventStore, stream: Names) -> None:
    """Tombstoning an unused name reserves it against any later use."""
    name = stream("reserved")
    event_store.tombstone_stream(name, expected_version=StreamState.NO_STREAM)
    with pytest.raises(StreamDeleted):
        event_store.append(name, events(1), expected_version=StreamState.NO_STREAM)


def test_new_metadata_reopens_a_deleted_stream_empty(
    event_store: EventStore, stream: Names
) -> None:
    """Setting metadata on a soft-deleted stream re-opens it with nothing visible."""
    name = stream("book")
    event_store.append(name, events(2), expected_version=StreamState.NO_STREAM)
    event_store.delete_stream(name, expected_version=1)

    event_store.set_stream_metadata(name, StreamMetadata(max_count=100), expected_version=0)

    assert event_store.read_stream(name) == []
    assert event_store.get_stream_metadata(name) == (
        StreamMetadata(max_count=100, truncate_before=2),
        1,
    )
