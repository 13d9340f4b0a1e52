"""`RecordedEvent`: an immutable value that decodes its id and time on access."""

from __future__ import annotations

import pickle
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from write_side.eventstore import RecordedEvent

AT = datetime(2026, 11, 26, 9, 30, 15, 123456, tzinfo=UTC)


def event(**changes: object) -> RecordedEvent:
    fields: dict[str, object] = {
        "id": uuid.UUID("01936c6e-7b1a-7c3d-8e4f-0123456789ab"),
        "type": "BookCreated",
        "data": b'{"name": "Dune"}',
        "metadata": b'{"actor": "admin"}',
        "content_type": "application/json",
        "stream": "book-1",
        "revision": 3,
        "position": 42,
        "recorded_at": AT,
    }
    return RecordedEvent(**(fields | changes))  # type: ignore[arg-type]


def test_every_field_reads_back_as_given() -> None:
    made = event()

    assert made.id == uuid.UUID("01936c6e-7b1a-7c3d-8e4f-0123456789ab")
    assert (made.type, made.data, made.metadata) == (
        "BookCreated",
        b'{"name": "Dune"}',
        b'{"actor": "admin"}',
    )
    assert (made.content_type, made.stream, made.revision, made.position) == (
        "application/json",
        "book-1",
        3,
        42,
    )
    assert made.recorded_at == AT
    assert made.recorded_at.tzinfo is not None
    assert made.recorded_at_us == 1_795_685_415_123_456


def test_a_time_in_another_zone_is_the_same_instant() -> None:
    elsewhere = AT.astimezone(timezone(timedelta(hours=-5)))

    assert event(recorded_at=elsewhere) == event()
    assert event(recorded_at=elsewhere).recorded_at == AT


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        event(recorded_at=AT.replace(tzinfo=None))


def test_it_cannot_be_changed() -> None:
    made = event()

    with pytest.raises(AttributeError, match="immutable"):
        made.position = 7  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del made.stream
    assert made.position == 42


def test_equal_events_are_equal_and_hash_alike() -> None:
    assert event() == event()
    assert hash(event()) == hash(event())
    assert event() != event(position=43)
    assert len({event(), event(), event(revision=4)}) == 2


def test_it_survives_pickling_for_other_processes() -> None:
    made = event()

    assert pickle.loads(pickle.dumps(made)) == made


def test_a_store_row_is_wrapped_as_it_is() -> None:
    made = event()
    row = (made.id.bytes, "BookCreated", made.data, made.metadata, "application/json")

    assert RecordedEvent.from_row((*row, "book-1", 3, 42, made.recorded_at_us)) == made


def test_its_repr_names_the_fields() -> None:
    assert "type='BookCreated'" in repr(event())
    assert "recorded_at='2026-11-26T09:30:15.123456+00:00'" in repr(event())
