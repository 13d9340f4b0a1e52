"""The catalog's ports answered from the event store: BookLookup by loading the book, and
CatalogUsage by folding the book streams of `$all`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from tests.domain.contexts import given_book, given_shelf
from write_side.catalog import (
    BookDeleted,
    BookInfo,
    BookStatus,
    ChangeBookAuthors,
    ChangeBookCategory,
    ChangeBookPrice,
    DeleteBook,
    EventStoreCatalogUsage,
    RepositoryBookLookup,
    SetBookStock,
    UpdateBookDetails,
)
from write_side.domain import CommandBus, Repository
from write_side.envelope import EventMetadata
from write_side.eventstore import EventStore, NewEvent, StreamState
from write_side.registry import REGISTRY


def test_the_book_lookup_answers_what_the_stream_says_now(
    bus: CommandBus, repository: Repository
) -> None:
    lookup = RepositoryBookLookup(repository)
    book_id = given_book(bus, price=Decimal("25.00"), discount_price=Decimal("20.00"))

    first = lookup.find(book_id)
    bus.dispatch(UpdateBookDetails(book_id=book_id, name="Sketch"))
    bus.dispatch(ChangeBookPrice(book_id=book_id, price=Decimal("30.00")))
    bus.dispatch(SetBookStock(book_id=book_id, status=BookStatus.OUT_OF_STOCK))
    changed = lookup.find(book_id)
    bus.dispatch(DeleteBook(book_id=book_id))
    deleted = lookup.find(book_id)

    assert first == BookInfo(
        book_id, "Notes on the Engine", Decimal("25"), Decimal("20"), True, False
    )
    assert (first.unit_price, first.sellable) == (Decimal("20.00"), True)
    assert changed == BookInfo(book_id, "Sketch", Decimal("30"), None, False, False)
    assert (changed.unit_price, changed.sellable) == (Decimal("30.00"), False)
    assert deleted is not None
    assert (deleted.deleted, deleted.sellable) == (True, False)
    assert lookup.find(uuid.uuid4()) is None


def test_usage_counts_the_non_deleted_books_that_use_each_reference(
    bus: CommandBus, event_store: EventStore
) -> None:
    usage = EventStoreCatalogUsage(event_store)
    shelf, other = given_shelf(bus), given_shelf(bus)
    first = given_book(bus, shelf, author_ids=shelf.author_ids)
    second = given_book(bus, shelf)
    third = given_book(bus, shelf)

    before = (
        usage.books_using_category(shelf.category_id),
        usage.books_using_publisher(shelf.publisher_id),
        usage.books_using_author(shelf.author_ids[0]),
        usage.books_using_author(shelf.author_ids[1]),
    )
    bus.dispatch(ChangeBookCategory(book_id=second, category_id=other.category_id))
    bus.dispatch(ChangeBookAuthors(book_id=first, author_ids=other.author_ids))
    bus.dispatch(DeleteBook(book_id=third))

    assert before == (3, 3, 3, 1)
    assert usage.books_using_category(shelf.category_id) == 1  # second moved, third deleted
    assert usage.books_using_category(other.category_id) == 1
    assert usage.books_using_publisher(shelf.publisher_id) == 2
    assert usage.books_using_author(shelf.author_ids[0]) == 1  # second
    assert usage.books_using_author(shelf.author_ids[1]) == 0
    assert usage.books_using_author(other.author_ids[1]) == 1
    assert usage.books_using_publisher(uuid.uuid4()) == 0


def test_usage_skips_streams_that_are_only_named_like_books(
    bus: CommandBus, event_store: EventStore
) -> None:
    shelf = given_shelf(bus)
    given_book(bus, shelf)
    odd = f"book-not-a-uuid-{uuid.uuid4().hex}"
    metadata = EventMetadata.new_correlation(occurred_at=datetime.now(UTC))
    event_store.append(
        odd,
        [
            NewEvent(type="SomethingElse", data=b"{}"),
            REGISTRY.to_new_event(BookDeleted(), metadata),
        ],
        expected_version=StreamState.NO_STREAM,
    )

    assert EventStoreCatalogUsage(event_store).books_using_category(shelf.category_id) == 1
