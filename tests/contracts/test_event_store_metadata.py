"""Contract: stream metadata (`$maxCount`, `$maxAge`, `$tb`, custom keys) and what it hides."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.contracts.helpers import Names, events
from write_side.eventstore import (
    EventFilter,
    EventStore,
    StreamMetadata,
    StreamState,
    WrongExpectedVersion,
)


def test_a_stream_without_metadata_has_none(event_store: EventStore, stream: Names) -> None:
    """Metadata of a stream never given any is empty, with no version."""
    assert event_store.get_stream_metadata(stream("book")) == (StreamMetadata(), None)


def test_metadata_round_trips_with_its_own_version(event_store: EventStore, stream: Names) -> None:
    """Setting metadata twice gives versions 0 and 1; a stale version is a conflict."""
    name = stream("book")
    first = StreamMetadata(max_count=10, custom={"owner": "catalog", "tags": ["a", 1]})
    event_store.set_stream_metadata(name, first, expected_version=StreamState.NO_STREAM)
    assert event_store.get_stream_metadata(name) == (first, 0)

    second = StreamMetadata(max_age=timedelta(hours=1), truncate_before=3)
    event_store.set_stream_metadata(name, second, expected_version=0)
    assert event_store.get_stream_metadata(name) == (second, 1)

    with pytest.raises(WrongExpectedVersion):
        event_store.set_stream_metadata(name, first, expected_version=0)
    assert event_store.get_stream_metadata(name) == (second, 1)


def test_max_count_keeps_the_newest_events(event_store: EventStore, stream: Names) -> None:
    """With `$maxCount` 3, a stream read sees only the last three events."""
    name = stream("basket")
    event_store.append(name, events(5), expected_version=StreamState.NO_STREAM)
    event_store.set_stream_metadata(
        name, StreamMetadata(max_count=3), expected_version=StreamState.NO_STREAM
    )

    assert [e.revision for e in event_store.read_stream(name)] == [2, 3, 4]
    assert [e.revision for e in event_store.read_stream(name, backwards=True)] == [4, 3, 2]
    assert [e.revision for e in event_store.read_stream(name, from_revision=0, limit=1)] == [2]


def test_truncate_before_hides_lower_revisions(event_store: EventStore, stream: Names) -> None:
    """With `$tb` 2, revisions 0 and 1 are hidden from stream reads; appends go on."""
    name = stream("order")
    event_store.append(name, events(4), expected_version=StreamState.NO_STREAM)
    event_store.set_stream_metadata(
        name, StreamMetadata(truncate_before=2), expected_version=StreamState.NO_STREAM
    )
    event_store.append(name, events(1), expected_version=3)

    assert [e.revision for e in event_store.read_stream(name)] == [2, 3, 4]
    assert [e.revision for e in event_store.read_stream(name, backwards=True, from_revision=3)] == [
        3,
        2,
    ]


def test_max_age_hides_old_events(event_store: EventStore, stream: Names) -> None:
    """With `$maxAge` one second, events recorded longer ago vanish from stream reads."""
    name = stream("chat")
    event_store.append(name, events(2), expected_version=StreamState.NO_STREAM)
    event_store.set_stream_metadata(
        name, StreamMetadata(max_age=timedelta(seconds=1)), expected_version=StreamState.NO_STREAM
    )
    time.sleep(1.2)
    event_store.append(name, events(1), expected_version=1)

    assert [e.revision for e in event_store.read_stream(name)] == [2]


def test_hidden_events_are_still_in_all(event_store: EventStore, stream: Names) -> None:
    """Metadata hides from stream reads only: `$all` returns every event until a scavenge."""
    name = stream("basket")
    start = event_store.append(name, events(5), expected_version=StreamState.NO_STREAM) - 4
    event_store.set_stream_metadata(
        name, StreamMetadata(max_count=1), expected_version=StreamState.NO_STREAM
    )

    found = list(
        event_store.read_all(from_position=start, filter=EventFilter.stream_prefixes(name))
    )
    assert [e.revision for e in found] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "bad",
    [
        {"max_count": 0},
        {"max_count": -1},
        {"truncate_before": -2},
        {"max_age": timedelta(0)},
        {"custom": {"$acl": "x"}},
    ],
)
def test_invalid_metadata_is_refused(bad: dict[str, object]) -> None:
    """Metadata that EventStoreDB would refuse cannot even be built."""
    with pytest.raises(ValueError):
        StreamMetadata(**bad)  # type: ignore[arg-type]
