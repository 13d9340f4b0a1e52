"""The catalog's ports answered from the event store: BookLookup by loading the book, and
CatalogUsage by folding the book streams of `$all`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

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
from write_side.domain.aggregate import Aggregate
from write_side.envelope import EventMetadata
from write_side.eventstore import EventStore, NewEvent, StreamState
from write_side.registry import REGISTRY

A = TypeVar("A", bound=Aggregate)


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


class CountingRepository(Repository):
    """The real repository, counting how often a book is folded from its stream."""

    folds = 0

    def load(self, kind: type[A], id: uuid.UUID) -> A:
        self.folds += 1
        return super().load(kind, id)


def counting(repository: Repository) -> CountingRepository:
    return CountingRepository(
        repository.store, repository.registry, repository.crypto, repository.clock
    )


def test_the_book_lookup_folds_a_book_again_only_when_its_stream_has_moved(
    bus: CommandBus, repository: Repository
) -> None:
    counted = counting(repository)
    lookup = RepositoryBookLookup(counted)
    book_id = given_book(bus, price=Decimal("25.00"))

    answers = [lookup.find(book_id) for _ in range(3)]
    folds_before_change = counted.folds
    bus.dispatch(ChangeBookPrice(book_id=book_id, price=Decimal("31.00")))  # another writer
    changed = lookup.find(book_id)
    again = lookup.find(book_id)

    assert folds_before_change == 1
    assert answers[0] is not None
    assert answers[0] == answers[1] == answers[2]
    assert changed is not None
    assert changed.price == Decimal("31.00")
    assert again == changed
    assert counted.folds == 2


def test_the_book_lookup_keeps_at_most_its_capacity_and_answers_the_dropped_books_again(
    bus: CommandBus, repository: Repository
) -> None:
    counted = counting(repository)
    lookup = RepositoryBookLookup(counted, capacity=2)
    books = [given_book(bus, name=f"Volume {n}") for n in range(3)]

    first_round = [lookup.find(book_id) for book_id in books]
    folds = counted.folds
    oldest_again = lookup.find(books[0])  # dropped to make room for the third

    assert [info.name for info in first_round if info is not None] == [
        "Volume 0",
        "Volume 1",
        "Volume 2",
    ]
    assert folds == 3
    assert oldest_again == first_round[0]
    assert counted.folds == 4


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
