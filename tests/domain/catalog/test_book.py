"""The Book: given these prior commands, when this command, then these events or this error."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.domain.contexts import (
    Shelf,
    create_book,
    events_of,
    given_book,
    given_shelf,
    types_of,
)
from write_side.catalog import (
    Book,
    BookAuthorsReplaced,
    BookCategoryChanged,
    BookCreated,
    BookDeleted,
    BookDetailsUpdated,
    BookPriceChanged,
    BookPublisherChanged,
    BookStatus,
    BookStockStatusChanged,
    ChangeBookAuthors,
    ChangeBookCategory,
    ChangeBookPrice,
    ChangeBookPublisher,
    CreateAuthor,
    CreateCategory,
    CreatePublisher,
    DeleteAuthor,
    DeleteBook,
    DeleteCategory,
    DeletePublisher,
    SetBookStock,
    UpdateBookDetails,
)
from write_side.domain import (
    Command,
    CommandBus,
    DomainError,
    ManualClock,
    NotFound,
    Repository,
)
from write_side.ids import derive_id


def stream_of(book_id: uuid.UUID) -> str:
    return Book.stream_for(book_id)


# -- CreateBook ---------------------------------------------------------------------------------


def test_create_book_records_its_full_initial_state_in_stock(
    bus: CommandBus, repository: Repository
) -> None:
    shelf = given_shelf(bus)
    command = create_book(shelf, image="covers/engine.webp", author_ids=shelf.author_ids)

    result = bus.dispatch(command)

    book_id = derive_id(command.command_id, "book")
    assert (result.aggregate_id, result.stream) == (book_id, f"book-{book_id}")
    assert events_of(repository, f"book-{book_id}") == [
        BookCreated(
            book_id=book_id,
            name="Notes on the Engine",
            description="On the Analytical Engine.",
            image="covers/engine.webp",
            price=Decimal("25.00"),
            discount_price=Decimal("20.00"),
            status=BookStatus.IN_STOCK,
            category_id=shelf.category_id,
            publisher_id=shelf.publisher_id,
            author_ids=shelf.author_ids,
        )
    ]


def test_book_events_carry_the_command_id_actor_and_business_time(
    bus: CommandBus, repository: Repository, clock: ManualClock
) -> None:
    shelf = given_shelf(bus)
    clock.advance(timedelta(hours=2))
    command = create_book(shelf, actor="admin")

    result = bus.dispatch(command)

    [recorded] = repository.store.read_stream(result.stream)
    metadata = repository.registry.decode(recorded).metadata
    assert metadata is not None
    assert (metadata.command_id, metadata.correlation_id) == (command.command_id,) * 2
    assert metadata.actor == "admin"
    assert metadata.occurred_at == clock.now()
    assert recorded.position == result.position


def test_a_create_aimed_at_an_existing_book_is_refused(
    bus: CommandBus, repository: Repository
) -> None:
    shelf = given_shelf(bus)
    existing = given_book(bus, shelf)
    command = create_book(shelf)

    with pytest.raises(DomainError) as raised:
        repository.execute(Book, existing, command, lambda book: book.create(command))

    assert (raised.value.rule, raised.value.status) == ("book_exists", 409)
    assert len(events_of(repository, stream_of(existing))) == 1


MISSING: dict[str, tuple[Callable[[Shelf], dict[str, object]], str, str]] = {
    "category": (lambda s: {"category_id": uuid.uuid4()}, "category_not_found", "category_id"),
    "publisher": (lambda s: {"publisher_id": uuid.uuid4()}, "publisher_not_found", "publisher_id"),
    "an author": (
        lambda s: {"author_ids": (s.author_ids[0], uuid.uuid4())},
        "author_not_found",
        "author_ids/1",
    ),
}


@pytest.mark.parametrize("missing", sorted(MISSING))
def test_create_book_needs_its_category_publisher_and_every_author(
    bus: CommandBus, repository: Repository, missing: str
) -> None:
    shelf = given_shelf(bus)
    changes, rule, field = MISSING[missing]
    command = create_book(shelf, **changes(shelf))

    with pytest.raises(NotFound) as raised:
        bus.dispatch(command)

    assert (raised.value.rule, raised.value.field, raised.value.status) == (rule, field, 404)
    assert events_of(repository, stream_of(derive_id(command.command_id, "book"))) == []


DELETED: dict[str, tuple[Callable[[Shelf], Command], str, str]] = {
    "category": (
        lambda s: DeleteCategory(category_id=s.category_id),
        "category_not_found",
        "category_id",
    ),
    "publisher": (
        lambda s: DeletePublisher(publisher_id=s.publisher_id),
        "publisher_not_found",
        "publisher_id",
    ),
    "author": (
        lambda s: DeleteAuthor(author_id=s.author_ids[1]),
        "author_not_found",
        "author_ids/1",
    ),
}


@pytest.mark.parametrize("deleted", sorted(DELETED))
def test_a_deleted_category_publisher_or_author_counts_as_missing(
    bus: CommandBus, repository: Repository, deleted: str
) -> None:
    shelf = given_shelf(bus)
    delete, rule, field = DELETED[deleted]
    bus.dispatch(delete(shelf))
    command = create_book(shelf, author_ids=shelf.author_ids)

    with pytest.raises(NotFound) as raised:
        bus.dispatch(command)

    assert (raised.value.rule, raised.value.field) == (rule, field)
    assert events_of(repository, stream_of(derive_id(command.command_id, "book"))) == []


# -- changes --------------------------------------------------------------------------------------


def test_update_book_details(bus: CommandBus, repository: Repository) -> None:
    book_id = given_book(bus)

    bus.dispatch(UpdateBookDetails(book_id=book_id, name=" Sketch ", image="covers/s.png"))

    assert events_of(repository, stream_of(book_id))[1:] == [
        BookDetailsUpdated(name="Sketch", description="", image="covers/s.png")
    ]


def test_change_book_price_records_old_and_new_price_and_discount(
    bus: CommandBus, repository: Repository
) -> None:
    book_id = given_book(bus, price=Decimal("25.00"), discount_price=Decimal("20.00"))

    bus.dispatch(ChangeBookPrice(book_id=book_id, price=Decimal("30.00")))

    assert events_of(repository, stream_of(book_id))[1:] == [
        BookPriceChanged(
            old_price=Decimal("25.00"),
            old_discount_price=Decimal("20.00"),
            price=Decimal("30.00"),
            discount_price=None,
        )
    ]


def test_change_book_authors_to_existing_ones(bus: CommandBus, repository: Repository) -> None:
    shelf = given_shelf(bus)
    book_id = given_book(bus, shelf)
    third = bus.dispatch(CreateAuthor(name="Mary Somerville")).aggregate_id

    bus.dispatch(ChangeBookAuthors(book_id=book_id, author_ids=(third, shelf.author_ids[0])))
    with pytest.raises(NotFound) as raised:
        bus.dispatch(ChangeBookAuthors(book_id=book_id, author_ids=(uuid.uuid4(),)))

    assert (raised.value.rule, raised.value.field) == ("author_not_found", "author_ids/0")
    assert events_of(repository, stream_of(book_id))[1:] == [
        BookAuthorsReplaced(author_ids=(third, shelf.author_ids[0]))
    ]


def test_change_book_category_and_publisher_to_existing_ones(
    bus: CommandBus, repository: Repository
) -> None:
    book_id = given_book(bus)
    category = bus.dispatch(CreateCategory(name=f"Essays {uuid.uuid4().hex}")).aggregate_id
    publisher = bus.dispatch(CreatePublisher(name=f"Faber {uuid.uuid4().hex}")).aggregate_id

    bus.dispatch(ChangeBookCategory(book_id=book_id, category_id=category))
    bus.dispatch(ChangeBookPublisher(book_id=book_id, publisher_id=publisher))
    with pytest.raises(NotFound) as category_missing:
        bus.dispatch(ChangeBookCategory(book_id=book_id, category_id=uuid.uuid4()))
    with pytest.raises(NotFound) as publisher_missing:
        bus.dispatch(ChangeBookPublisher(book_id=book_id, publisher_id=uuid.uuid4()))

    assert (category_missing.value.rule, category_missing.value.field) == (
        "category_not_found",
        "category_id",
    )
    assert (publisher_missing.value.rule, publisher_missing.value.field) == (
        "publisher_not_found",
        "publisher_id",
    )
    assert events_of(repository, stream_of(book_id))[1:] == [
        BookCategoryChanged(category_id=category),
        BookPublisherChanged(publisher_id=publisher),
    ]


def test_an_admin_sets_the_stock_status(bus: CommandBus, repository: Repository) -> None:
    book_id = given_book(bus)

    bus.dispatch(SetBookStock(book_id=book_id, status=BookStatus.OUT_OF_STOCK))
    bus.dispatch(SetBookStock(book_id=book_id, status=BookStatus.IN_STOCK))

    assert events_of(repository, stream_of(book_id))[1:] == [
        BookStockStatusChanged(status=BookStatus.OUT_OF_STOCK),
        BookStockStatusChanged(status=BookStatus.IN_STOCK),
    ]


def unchanged(shelf: Shelf, book_id: uuid.UUID) -> list[Command]:
    """Commands that ask for what the book of `given_book(bus, shelf)` already is."""
    return [
        UpdateBookDetails(
            book_id=book_id, name="Notes on the Engine", description="On the Analytical Engine."
        ),
        ChangeBookPrice(book_id=book_id, price=Decimal("25"), discount_price=Decimal("20")),
        ChangeBookAuthors(book_id=book_id, author_ids=shelf.author_ids[:1]),
        ChangeBookCategory(book_id=book_id, category_id=shelf.category_id),
        ChangeBookPublisher(book_id=book_id, publisher_id=shelf.publisher_id),
        SetBookStock(book_id=book_id, status=BookStatus.IN_STOCK),
    ]


def test_a_change_to_what_the_book_already_is_records_nothing(
    bus: CommandBus, repository: Repository
) -> None:
    shelf = given_shelf(bus)
    book_id = given_book(bus, shelf)

    results = [bus.dispatch(command) for command in unchanged(shelf, book_id)]

    assert {(result.events, result.revision) for result in results} == {((), 0)}
    assert types_of(events_of(repository, stream_of(book_id))) == ["BookCreated"]


# -- DeleteBook, and what a deleted or missing book answers -------------------------------------


def every_change(shelf: Shelf, book_id: uuid.UUID) -> list[Command]:
    """One command of each kind a book takes after its creation, each a real change."""
    return [
        UpdateBookDetails(book_id=book_id, name="Other"),
        ChangeBookPrice(book_id=book_id, price=Decimal("9.99")),
        ChangeBookAuthors(book_id=book_id, author_ids=shelf.author_ids),
        ChangeBookCategory(book_id=book_id, category_id=shelf.category_id),
        ChangeBookPublisher(book_id=book_id, publisher_id=shelf.publisher_id),
        SetBookStock(book_id=book_id, status=BookStatus.OUT_OF_STOCK),
        DeleteBook(book_id=book_id),
    ]


def test_delete_book_is_a_soft_delete(bus: CommandBus, repository: Repository) -> None:
    book_id = given_book(bus)

    bus.dispatch(DeleteBook(book_id=book_id))

    assert events_of(repository, stream_of(book_id))[1:] == [BookDeleted()]
    book = repository.load(Book, book_id)
    assert book.deleted
    assert book.name == "Notes on the Engine"  # the book stays, marked deleted


def test_a_deleted_book_takes_no_further_command(bus: CommandBus, repository: Repository) -> None:
    shelf = given_shelf(bus)
    book_id = given_book(bus, shelf)
    bus.dispatch(DeleteBook(book_id=book_id))
    other_category = bus.dispatch(CreateCategory(name=f"Other {uuid.uuid4().hex}")).aggregate_id

    refused = []
    for command in [
        *every_change(shelf, book_id),
        ChangeBookCategory(book_id=book_id, category_id=other_category),
    ]:
        with pytest.raises(DomainError) as raised:
            bus.dispatch(command)
        refused.append((raised.value.rule, raised.value.status))

    assert set(refused) == {("book_deleted", 409)}
    assert len(refused) == 8
    assert types_of(events_of(repository, stream_of(book_id))) == ["BookCreated", "BookDeleted"]


def test_a_missing_book_is_not_found(bus: CommandBus, repository: Repository) -> None:
    shelf = given_shelf(bus)
    book_id = uuid.uuid4()

    refused = []
    for command in every_change(shelf, book_id):
        with pytest.raises(NotFound) as raised:
            bus.dispatch(command)
        refused.append((raised.value.rule, raised.value.status))

    assert set(refused) == {("book_not_found", 404)}
    assert events_of(repository, stream_of(book_id)) == []
