"""The event envelope: registration, JSON form, metadata, upcasting and lazy decoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from write_side.envelope import (
    DomainEvent,
    EventDecodeError,
    EventMetadata,
    EventRegistry,
    EventRegistryError,
    MissingUpcasterError,
    Money,
    StoredEvent,
    UnknownEvent,
    UtcDateTime,
)
from write_side.eventstore import NewEvent, RecordedEvent
from write_side.ids import new_id

catalog = EventRegistry()


@catalog.event("BookCreated", version=2)
class BookCreated(DomainEvent):
    book_id: UUID
    name: str
    price: Money
    discount_price: Money | None = None
    status: Literal["InStock", "OutOfStock"] = "InStock"
    author_ids: tuple[UUID, ...]
    published_at: UtcDateTime


@catalog.upcaster("BookCreated", from_version=1)
def _book_created_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    data["author_ids"] = [data.pop("author_id")]
    return data


NOON = datetime(2024, 5, 17, 12, 0, tzinfo=UTC)


def a_book(**changes: Any) -> BookCreated:
    fields: dict[str, Any] = {
        "book_id": new_id(),
        "name": "Dune",
        "price": Decimal("19.99"),
        "author_ids": (new_id(),),
        "published_at": NOON,
    }
    return BookCreated(**(fields | changes))


def metadata(**changes: Any) -> EventMetadata:
    return EventMetadata.new_correlation(occurred_at=NOON).model_copy(update=changes)


def recorded(
    new: NewEvent, *, stream: str = "book-1", revision: int = 0, position: int = 100
) -> RecordedEvent:
    return RecordedEvent(
        id=new.id,
        type=new.type,
        data=new.data,
        metadata=new.metadata,
        content_type=new.content_type,
        stream=stream,
        revision=revision,
        position=position,
        recorded_at=NOON + timedelta(seconds=1),
    )


def raw(type: str, data: bytes, meta: bytes = b"", stream: str = "book-1") -> RecordedEvent:
    return recorded(NewEvent(type=type, data=data, metadata=meta, id=new_id()), stream=stream)


def v1_metadata() -> bytes:
    return metadata(schema_version=1).to_json()


# Writing


def test_an_event_round_trips_through_the_store_format() -> None:
    book = a_book(discount_price="9.5", status="OutOfStock")

    stored = catalog.decode(recorded(catalog.to_new_event(book, metadata())))

    assert stored.is_known
    assert stored.event == book
    assert isinstance(stored.event, BookCreated)
    assert stored.event.discount_price == Decimal("9.50")


def test_the_data_is_plain_json_with_money_as_strings_and_utc_iso_datetimes() -> None:
    book_id, author_id = new_id(), new_id()
    published = datetime(2024, 5, 17, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    book = a_book(book_id=book_id, author_ids=(author_id,), price="12.5", published_at=published)

    new = catalog.to_new_event(book, metadata())

    assert new.type == "BookCreated"
    assert new.content_type == "application/json"
    assert orjson.loads(new.data) == {
        "book_id": str(book_id),
        "name": "Dune",
        "price": "12.50",
        "discount_price": None,
        "status": "InStock",
        "author_ids": [str(author_id)],
        "published_at": "2024-05-17T12:30:00Z",
    }


def test_the_metadata_records_the_class_schema_version_and_the_esdb_correlation_keys() -> None:
    command_id = new_id()
    given = EventMetadata.new_correlation(occurred_at=NOON, command_id=command_id, actor="admin")
    assert given.schema_version == 1

    new = catalog.to_new_event(a_book(), given)

    assert orjson.loads(new.metadata) == {
        "correlation_id": str(command_id),
        "causation_id": str(command_id),
        "command_id": str(command_id),
        "actor": "admin",
        "occurred_at": "2024-05-17T12:00:00Z",
        "schema_version": 2,
        "$correlationId": str(command_id),
        "$causationId": str(command_id),
    }


def test_a_given_event_id_is_kept_and_otherwise_a_new_uuidv7_is_made() -> None:
    chosen = new_id()

    kept = catalog.to_new_event(a_book(), metadata(), event_id=chosen)
    made = catalog.to_new_event(a_book(), metadata())

    assert kept.id == chosen
    assert made.id.version == 7
    assert made.id > chosen


money = st.decimals(
    min_value=Decimal("-1e12"),
    max_value=Decimal("1e12"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
offsets = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
)
# Hypothesis takes naive bounds and attaches the generated offset itself.
EARLIEST = datetime(1900, 1, 1)  # noqa: DTZ001
LATEST = datetime(2200, 1, 1)  # noqa: DTZ001
instants = st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=offsets)


@settings(database=None, max_examples=200)
@given(price=money, discount=st.none() | money, published=instants, ids=st.lists(st.uuids()))
def test_money_datetimes_and_uuids_round_trip_exactly(
    price: Decimal, discount: Decimal | None, published: datetime, ids: list[UUID]
) -> None:
    book = a_book(
        price=price, discount_price=discount, published_at=published, author_ids=tuple(ids)
    )

    decoded = catalog.decode(recorded(catalog.to_new_event(book, metadata()))).event

    assert decoded == book
    assert isinstance(decoded, BookCreated)
    assert decoded.price == price
    assert decoded.price.as_tuple().exponent == -2
    assert decoded.published_at == published
    assert decoded.published_at.utcoffset() == timedelta(0)
    assert list(decoded.author_ids) == ids


# Field types and the DomainEvent base


def test_money_is_kept_at_two_places_and_refuses_floats_and_fractions_of_cents() -> None:
    assert a_book(price=Decimal("7")).price.as_tuple().exponent == -2
    with pytest.raises(ValidationError, match="never a float"):
        a_book(price=19.99)
    with pytest.raises(ValidationError, match="2 decimal places"):
        a_book(price="19.999")
    with pytest.raises(ValidationError):
        a_book(price="NaN")


def test_datetimes_must_be_aware_and_are_normalised_to_utc() -> None:
    eastern = datetime(2024, 5, 17, 8, 0, tzinfo=timezone(timedelta(hours=-4)))

    assert a_book(published_at=eastern).published_at.tzinfo is UTC
    with pytest.raises(ValidationError, match="timezone"):
        a_book(published_at=datetime(2024, 5, 17, 8, 0))  # noqa: DTZ001 - the naive input is the point


def test_domain_events_are_frozen_and_refuse_unknown_fields() -> None:
    book = a_book()

    with pytest.raises(ValidationError, match="frozen"):
        book.name = "Emma"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs"):
        a_book(isbn="123")


def test_registration_sets_the_class_name_and_version() -> None:
    assert (BookCreated.event_type, BookCreated.schema_version) == ("BookCreated", 2)
    assert "BookCreated" in catalog
    assert catalog.class_for("BookCreated") is BookCreated
    assert catalog.class_for("BookDeleted") is None


def test_a_name_can_be_registered_only_once_and_a_class_only_under_one_name() -> None:
    registry = EventRegistry()

    @registry.event("AuthorCreated")
    class AuthorCreated(DomainEvent):
        name: str

    with pytest.raises(EventRegistryError, match="already registered"):

        @registry.event("AuthorCreated")
        class AuthorCreatedAgain(DomainEvent):
            name: str

    with pytest.raises(EventRegistryError, match="already registered as 'AuthorCreated'"):
        registry.event("AuthorAdded")(AuthorCreated)


def test_bad_names_and_versions_are_refused() -> None:
    registry = EventRegistry()

    with pytest.raises(EventRegistryError):
        registry.event("$metadata")
    with pytest.raises(EventRegistryError):
        registry.event("AuthorCreated", version=0)
    with pytest.raises(EventRegistryError):
        registry.upcaster("AuthorCreated", from_version=0)


def test_an_unregistered_class_cannot_be_serialized() -> None:
    class Stray(DomainEvent):
        name: str

    with pytest.raises(EventRegistryError, match="Stray is not registered"):
        catalog.to_new_event(Stray(name="x"), metadata())


# Versioning


def test_a_recorded_v1_event_is_upcast_to_the_current_v2_model() -> None:
    registry = EventRegistry()

    @registry.event("BookPriced", version=2)
    class BookPriced(DomainEvent):
        price: Money
        currency: str

    @registry.upcaster("BookPriced", from_version=1)
    def add_currency(data: dict[str, Any]) -> dict[str, Any]:
        return data | {"currency": "USD"}

    registry.check()
    given = raw("BookPriced", b'{"price": "12.5"}', v1_metadata())

    stored = registry.decode(given)

    assert stored.event == BookPriced(price=Decimal("12.50"), currency="USD")
    assert stored.metadata is not None
    assert stored.metadata.schema_version == 1


def test_upcasters_run_step_by_step_in_version_order() -> None:
    registry = EventRegistry()
    steps: list[int] = []

    @registry.event("BookRenamed", version=3)
    class BookRenamed(DomainEvent):
        title: str
        reason: str

    @registry.upcaster("BookRenamed", from_version=2)
    def add_reason(data: dict[str, Any]) -> dict[str, Any]:
        steps.append(2)
        return data | {"reason": "unknown"}

    @registry.upcaster("BookRenamed", from_version=1)
    def rename_name_to_title(data: dict[str, Any]) -> dict[str, Any]:
        steps.append(1)
        return {"title": data["name"]}

    registry.check()

    event = registry.decode(raw("BookRenamed", b'{"name": "Emma"}', v1_metadata())).event

    assert event == BookRenamed(title="Emma", reason="unknown")
    assert steps == [1, 2]


def test_a_gap_in_an_upcaster_chain_is_reported_by_check_and_on_read() -> None:
    registry = EventRegistry()

    @registry.event("BookRenamed", version=3)
    class BookRenamed(DomainEvent):
        title: str

    registry.upcaster("BookRenamed", from_version=2)(lambda data: data)

    with pytest.raises(MissingUpcasterError, match="from version 1 to 2") as missing:
        registry.check()
    assert missing.value.from_version == 1
    stored = registry.decode(raw("BookRenamed", b'{"title": "Emma"}', v1_metadata()))
    with pytest.raises(EventDecodeError, match="no upcaster for 'BookRenamed' from version 1"):
        _ = stored.event


def test_check_refuses_upcasters_of_unknown_types_and_of_current_versions() -> None:
    orphan = EventRegistry()
    orphan.upcaster("Ghost", from_version=1)(lambda data: data)
    too_new = EventRegistry()

    @too_new.event("BookDeleted")
    class BookDeleted(DomainEvent):
        reason: str

    too_new.upcaster("BookDeleted", from_version=1)(lambda data: data)

    with pytest.raises(EventRegistryError, match="unregistered event type 'Ghost'"):
        orphan.check()
    with pytest.raises(EventRegistryError, match="current version is 1"):
        too_new.check()


def test_a_failing_upcaster_is_a_decode_error_of_that_event() -> None:
    given = raw("BookCreated", b'{"name": "Dune"}', v1_metadata())

    with pytest.raises(EventDecodeError, match="upcaster from version 1 failed: KeyError"):
        _ = catalog.decode(given).event


def test_data_of_a_newer_schema_version_than_the_code_knows_is_a_decode_error() -> None:
    given = raw("BookCreated", catalog.to_new_event(a_book(), metadata()).data)
    newer = metadata(schema_version=3).to_json()

    with pytest.raises(EventDecodeError, match="schema version 3 is newer"):
        _ = catalog.decode(raw(given.type, given.data, newer)).event


def test_data_without_our_metadata_is_taken_at_the_current_version() -> None:
    book = a_book()

    stored = catalog.decode(raw("BookCreated", catalog.to_new_event(book, metadata()).data))

    assert stored.metadata is None
    assert stored.event == book


# Reading: unknown types, bad data, laziness


def test_an_unknown_type_is_kept_raw_instead_of_crashing_the_reader() -> None:
    as_json = catalog.decode(raw("ShelfMoved", b'{"shelf": 3}', b"not json"))
    as_bytes = catalog.decode(raw("ShelfMoved", b"\x00\x01"))
    as_array = catalog.decode(raw("ShelfMoved", b"[1, 2]"))

    assert not as_json.is_known
    assert as_json.event == UnknownEvent(type="ShelfMoved", data={"shelf": 3})
    assert as_bytes.event == UnknownEvent(type="ShelfMoved", data=b"\x00\x01")
    assert as_array.event == UnknownEvent(type="ShelfMoved", data=b"[1, 2]")


def test_malformed_json_of_a_known_type_fails_only_when_the_event_is_read() -> None:
    given = raw("BookCreated", b'{"name": ', stream="book-42")

    stored = catalog.decode(given)

    assert (stored.id, stored.type, stored.stream) == (given.id, "BookCreated", "book-42")
    assert stored.is_known
    with pytest.raises(EventDecodeError) as failure:
        _ = stored.event
    message = str(failure.value)
    assert str(given.id) in message
    assert "'book-42'" in message
    assert "'BookCreated'" in message
    assert failure.value.event_id == given.id


def test_a_validation_failure_names_the_field_but_not_the_personal_data() -> None:
    data = orjson.loads(catalog.to_new_event(a_book(), metadata()).data)
    data["price"] = "Jane Doe, 12 Elm Street"

    with pytest.raises(EventDecodeError, match="price: ") as failure:
        _ = catalog.decode(raw("BookCreated", orjson.dumps(data))).event
    assert "Jane Doe" not in str(failure.value)


def test_the_envelope_is_readable_without_decoding_any_json() -> None:
    given = raw("BookCreated", b"{broken", b"{broken too", stream="book-7")

    stored = catalog.decode(given)

    assert stored.recorded is given
    assert (stored.revision, stored.position) == (0, 100)
    assert stored.recorded_at == NOON + timedelta(seconds=1)
    assert "book-7" in repr(stored)
    assert not hasattr(stored, "__dict__")


def test_decoded_values_are_cached_so_upcasting_happens_once() -> None:
    registry = EventRegistry()
    calls: list[dict[str, Any]] = []

    @registry.event("BookPriced", version=2)
    class BookPriced(DomainEvent):
        price: Money
        currency: str

    @registry.upcaster("BookPriced", from_version=1)
    def add_currency(data: dict[str, Any]) -> dict[str, Any]:
        calls.append(data)
        return data | {"currency": "USD"}

    stored = registry.decode(raw("BookPriced", b'{"price": "1.00"}', v1_metadata()))

    first, second = stored.event, stored.event

    assert first is second
    assert stored.metadata is stored.metadata
    assert len(calls) == 1


# Metadata


@pytest.mark.parametrize(
    "stored_metadata",
    [b"", b"not json", b"[1, 2]", b'{"$correlationId": "abc", "source": "legacy"}'],
)
def test_metadata_that_is_empty_or_not_ours_reads_as_none(stored_metadata: bytes) -> None:
    stored = catalog.decode(raw("ShelfMoved", b"{}", stored_metadata))

    assert stored.metadata is None


def test_metadata_that_is_ours_but_invalid_is_a_decode_error() -> None:
    stored = catalog.decode(raw("BookCreated", b"{}", b'{"correlation_id": "nope"}'))

    with pytest.raises(EventDecodeError, match="invalid metadata: correlation_id"):
        _ = stored.metadata


def test_metadata_keys_added_by_a_newer_writer_are_ignored() -> None:
    given = metadata(actor="admin")
    written = orjson.loads(given.to_json()) | {"tenant": "eu-1"}

    read = EventMetadata.from_json(orjson.dumps(written))

    assert read == given


def test_a_new_correlation_is_keyed_by_the_command_or_by_a_fresh_id() -> None:
    command_id = new_id()

    with_command = EventMetadata.new_correlation(occurred_at=NOON, command_id=command_id)
    without = EventMetadata.new_correlation(occurred_at=NOON, actor="simulator")

    assert with_command.correlation_id == with_command.causation_id == command_id
    assert without.correlation_id.version == 7
    assert without.correlation_id != command_id
    assert (without.causation_id, without.command_id, without.actor) == (None, None, "simulator")


def test_a_follow_up_event_keeps_the_correlation_and_is_caused_by_the_event() -> None:
    cause = catalog.decode(recorded(catalog.to_new_event(a_book(), metadata())))
    saga_command = new_id()
    later = NOON + timedelta(minutes=5)

    follow_up = EventMetadata.caused_by(
        cause, occurred_at=later, command_id=saga_command, actor="order_saga"
    )

    assert cause.metadata is not None
    assert follow_up.correlation_id == cause.metadata.correlation_id
    assert follow_up.causation_id == cause.id
    assert (follow_up.command_id, follow_up.occurred_at) == (saga_command, later)


def test_an_event_without_our_metadata_starts_the_correlation_of_its_follow_ups() -> None:
    cause: StoredEvent = catalog.decode(raw("ShelfMoved", b"{}"))

    follow_up = EventMetadata.caused_by(cause, occurred_at=NOON)

    assert follow_up.correlation_id == follow_up.causation_id == cause.id


def test_metadata_needs_an_aware_occurred_at_and_keeps_it_in_utc() -> None:
    paris = datetime(2024, 5, 17, 14, 0, tzinfo=timezone(timedelta(hours=2)))

    assert EventMetadata.new_correlation(occurred_at=paris).occurred_at == NOON
    with pytest.raises(ValidationError):
        EventMetadata.new_correlation(occurred_at=datetime(2024, 5, 17))  # noqa: DTZ001 - the naive input is the point
