"""Every catalog command sent twice records its events once (reservations included), and a
create retried after its answer was lost targets the same stream and writes nothing more."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.domain.contexts import Shelf, create_book, events_of, given_book, given_shelf, unique
from tests.domain.faults import FailsOnce, services_with
from write_side import catalog
from write_side.catalog import (
    BookStatus,
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
    RenameAuthor,
    RenameCategory,
    RenamePublisher,
    SetBookStock,
    UpdateBookDetails,
)
from write_side.domain import Command, CommandBus, Repository, Services
from write_side.eventstore import EventStore

#: For each command type: given a shelf and a book, a command that changes something.
SCENARIOS: dict[type[Command], Callable[[CommandBus, Shelf, uuid.UUID], Command]] = {
    catalog.CreateBook: lambda bus, shelf, book: create_book(shelf),
    UpdateBookDetails: lambda bus, shelf, book: UpdateBookDetails(book_id=book, name="Other"),
    ChangeBookPrice: lambda bus, shelf, book: ChangeBookPrice(book_id=book, price=Decimal("3")),
    ChangeBookAuthors: lambda bus, shelf, book: ChangeBookAuthors(
        book_id=book, author_ids=shelf.author_ids
    ),
    ChangeBookCategory: lambda bus, shelf, book: ChangeBookCategory(
        book_id=book, category_id=given_shelf(bus).category_id
    ),
    ChangeBookPublisher: lambda bus, shelf, book: ChangeBookPublisher(
        book_id=book, publisher_id=given_shelf(bus).publisher_id
    ),
    SetBookStock: lambda bus, shelf, book: SetBookStock(
        book_id=book, status=BookStatus.OUT_OF_STOCK
    ),
    DeleteBook: lambda bus, shelf, book: DeleteBook(book_id=book),
    CreateAuthor: lambda bus, shelf, book: CreateAuthor(name="Mary Shelley"),
    RenameAuthor: lambda bus, shelf, book: RenameAuthor(author_id=shelf.author_ids[1], name="X"),
    DeleteAuthor: lambda bus, shelf, book: DeleteAuthor(author_id=shelf.author_ids[1]),
    CreateCategory: lambda bus, shelf, book: CreateCategory(name=unique("Essays")),
    RenameCategory: lambda bus, shelf, book: RenameCategory(
        category_id=shelf.category_id, name=unique("Essays")
    ),
    DeleteCategory: lambda bus, shelf, book: DeleteCategory(
        category_id=given_shelf(bus).category_id
    ),
    CreatePublisher: lambda bus, shelf, book: CreatePublisher(name=unique("Faber")),
    RenamePublisher: lambda bus, shelf, book: RenamePublisher(
        publisher_id=shelf.publisher_id, name=unique("Faber")
    ),
    DeletePublisher: lambda bus, shelf, book: DeletePublisher(
        publisher_id=given_shelf(bus).publisher_id
    ),
}


def test_every_catalog_command_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(catalog.HANDLERS)


@pytest.mark.parametrize("kind", list(SCENARIOS), ids=lambda kind: kind.__name__)
def test_a_command_sent_twice_records_its_events_once(
    kind: type[Command], bus: CommandBus, repository: Repository, event_store: EventStore
) -> None:
    shelf = given_shelf(bus)
    book = given_book(bus, shelf)
    command = SCENARIOS[kind](bus, shelf, book)
    first = bus.dispatch(command)
    head = event_store.head_position()
    recorded = events_of(repository, first.stream)

    second = bus.dispatch(command)

    assert first.events
    assert not first.replayed
    assert second.replayed
    assert (second.stream, second.revision, second.position) == (
        first.stream,
        first.revision,
        first.position,
    )
    assert events_of(repository, first.stream) == recorded
    assert event_store.head_position() == head  # no other stream (no reservation) either


CREATES: dict[str, Callable[[Shelf], Command]] = {
    "CreateBook": create_book,
    "CreateAuthor": lambda shelf: CreateAuthor(name="Mary Shelley"),
    "CreateCategory": lambda shelf: CreateCategory(name=unique("Essays")),
    "CreatePublisher": lambda shelf: CreatePublisher(name=unique("Faber")),
}


@pytest.mark.parametrize("create", sorted(CREATES))
def test_a_create_retried_after_a_lost_answer_targets_the_same_stream(
    create: str,
    bus: CommandBus,
    services: Services,
    event_store: EventStore,
    repository: Repository,
) -> None:
    shelf = given_shelf(bus)
    command = CREATES[create](shelf)
    category = create.removeprefix("Create").lower()
    flaky = CommandBus(
        services_with(services, FailsOnce(event_store, f"{category}-", written=True)),
        catalog.HANDLERS,
    )

    with pytest.raises(ConnectionResetError):
        flaky.dispatch(command)
    retried = flaky.dispatch(command)
    again = bus.dispatch(command)

    assert retried.replayed
    assert again.replayed
    assert retried.stream == again.stream
    assert retried.stream.startswith(f"{category}-")
    assert len(events_of(repository, retried.stream)) == 1
