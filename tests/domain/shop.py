"""A harness for Basket and Ordering tests: the real command bus (catalog, basket, ordering)
over the real repository, books made by the catalog's commands and found by its real
`RepositoryBookLookup`; given events or prior commands, when a command, then the events it
wrote or the rule it broke.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast
from uuid import UUID, uuid4

import pytest

from tests.domain.contexts import Shelf, given_shelf
from write_side import basket, catalog, ordering
from write_side.catalog import (
    BookLookup,
    CatalogUsage,
    EventStoreCatalogUsage,
    RepositoryBookLookup,
)
from write_side.domain import (
    Command,
    CommandBus,
    CommandResult,
    Crypto,
    DomainError,
    Handler,
    ManualClock,
    Repository,
    Reservations,
    Services,
)
from write_side.envelope import DomainEvent, EventMetadata
from write_side.eventstore import EventStore, StreamNotFound, StreamState
from write_side.ids import new_id
from write_side.ordering import Address
from write_side.registry import REGISTRY

HANDLERS: dict[type[Command], Handler] = {
    **catalog.HANDLERS,
    **basket.HANDLERS,
    **ordering.HANDLERS,
}


@dataclass
class Books:
    """Makes and changes books through the catalog's own commands, on one shelf."""

    bus: CommandBus
    _shelf: Shelf | None = None

    @property
    def shelf(self) -> Shelf:
        """The category, publisher and authors every book of this test refers to."""
        if self._shelf is None:
            self._shelf = given_shelf(self.bus)
        return self._shelf

    def create(
        self,
        name: str = "Dune",
        price: str = "9.99",
        discount: str | None = None,
        *,
        in_stock: bool = True,
    ) -> UUID:
        """A new book (CreateBook); returns its id."""
        shelf = self.shelf
        book_id = self.bus.dispatch(
            catalog.CreateBook(
                name=name,
                price=Decimal(price),
                discount_price=None if discount is None else Decimal(discount),
                category_id=shelf.category_id,
                publisher_id=shelf.publisher_id,
                author_ids=shelf.author_ids[:1],
            )
        ).aggregate_id
        if not in_stock:
            self.set_stock(book_id, in_stock=False)
        return book_id

    def change_price(self, book_id: UUID, price: str, discount: str | None = None) -> None:
        """ChangeBookPrice."""
        self.bus.dispatch(
            catalog.ChangeBookPrice(
                book_id=book_id,
                price=Decimal(price),
                discount_price=None if discount is None else Decimal(discount),
            )
        )

    def set_stock(self, book_id: UUID, *, in_stock: bool) -> None:
        """SetBookStock."""
        status = catalog.BookStatus.IN_STOCK if in_stock else catalog.BookStatus.OUT_OF_STOCK
        self.bus.dispatch(catalog.SetBookStock(book_id=book_id, status=status))

    def delete(self, book_id: UUID) -> None:
        """DeleteBook (a soft delete)."""
        self.bus.dispatch(catalog.DeleteBook(book_id=book_id))


def target_stream(command: Command) -> str:
    """The one stream `command` writes to."""
    if isinstance(command, ordering.PlaceOrder):
        return ordering.Order.stream_for(command.order_id)
    order_id = getattr(command, "order_id", None)
    if isinstance(command, ordering.CompleteOrder | ordering.CancelOrder | ordering.DeleteOrder):
        assert isinstance(order_id, UUID)
        return ordering.Order.stream_for(order_id)
    if type(command) in basket.HANDLERS:
        return basket.Basket.stream_for(command.buyer_id)  # type: ignore[attr-defined]
    return ordering.Buyer.stream_for(command.buyer_id)  # type: ignore[attr-defined]


@dataclass
class Shop:
    """The bus, its repository and books, with given / when / then helpers."""

    bus: CommandBus
    books: Books
    ports: dict[type[Any], Any] = field(default_factory=dict)

    @property
    def repository(self) -> Repository:
        """The repository behind the bus."""
        return self.bus.services.repository

    # -- given --------------------------------------------------------------------------------

    def given(self, stream: str, *events: DomainEvent) -> None:
        """Append `events` to `stream` as if earlier commands had decided them."""
        repository = self.repository
        metadata = EventMetadata.new_correlation(
            occurred_at=repository.clock.now(), command_id=new_id(), actor="test"
        )
        new = [
            repository.registry.to_new_event(repository.crypto.seal(event), metadata)
            for event in events
        ]
        repository.store.append(stream, new, expected_version=StreamState.ANY)

    def send(self, command: Command) -> CommandResult:
        """Dispatch `command` through the bus."""
        return self.bus.dispatch(command)

    # -- when / then --------------------------------------------------------------------------

    def when(self, command: Command) -> list[DomainEvent]:
        """Dispatch `command`; the events it wrote (opened), in order."""
        result = self.send(command)
        if not result.events:
            return []
        first = result.revision - len(result.events) + 1
        return self.events(result.stream, from_revision=first)

    def rejects(self, command: Command) -> DomainError:
        """Dispatch `command`, which must break a rule and write nothing; the error."""
        stream = target_stream(command)
        before = self.revision(stream)
        with pytest.raises(DomainError) as raised:
            self.send(command)
        assert self.revision(stream) == before, f"{stream} changed although the command failed"
        return raised.value

    def events(self, stream: str, *, from_revision: int | None = None) -> list[DomainEvent]:
        """The events of `stream` (from a revision), decoded and opened."""
        repository = self.repository
        opened = []
        for recorded in repository.store.read_stream(stream, from_revision=from_revision):
            event = repository.registry.decode(recorded).event
            assert isinstance(event, DomainEvent)
            opened.append(repository.crypto.open(event))
        return opened

    def revision(self, stream: str) -> int:
        """The stream's last revision (-1 when it does not exist)."""
        try:
            last = self.repository.store.read_stream(stream, backwards=True, limit=1)
        except StreamNotFound:
            return -1
        return last[0].revision if last else -1

    def on(self, store: EventStore) -> Shop:
        """The same shop (books, ports) on another store: a wrapper of this one's."""
        repository = self.repository
        return make_shop(
            Repository(store, repository.registry, repository.crypto, repository.clock),
            self.books,
        )

    # -- prior commands -----------------------------------------------------------------------

    def buyer(self, name: str = "Ada Lovelace", email: str = "ada@example.org") -> UUID:
        """A new buyer, created by its command; returns its id."""
        buyer_id = uuid4()
        self.send(
            ordering.CreateBuyer(
                buyer_id=buyer_id, name=name, email=email, address=ADDRESS, actor=str(buyer_id)
            )
        )
        return buyer_id

    def fill_basket(self, buyer_id: UUID, items: Mapping[UUID, int]) -> None:
        """Replace the buyer's basket with `items`."""
        self.send(basket.UpdateBasket(buyer_id=buyer_id, items=lines(items)))

    def order(self, buyer_id: UUID) -> UUID:
        """Place an order from the buyer's basket; returns the order id."""
        command = ordering.PlaceOrder(buyer_id=buyer_id, actor=str(buyer_id))
        self.send(command)
        return command.order_id


ADDRESS = Address(street="12 St James's Square", city="London", province="Westminster")


def lines(items: Mapping[UUID, int]) -> tuple[basket.BasketLine, ...]:
    """Basket lines from a mapping of book id to quantity."""
    return tuple(basket.BasketLine(book_id=book, quantity=qty) for book, qty in items.items())


def make_shop(repository: Repository, books: Books | None = None) -> Shop:
    """A shop on `repository`, with the catalog's real ports; books made on its own bus (or
    those of `books`)."""
    ports: dict[type[Any], Any] = {
        BookLookup: RepositoryBookLookup(repository),
        CatalogUsage: EventStoreCatalogUsage(repository.store),
    }
    services = Services(
        repository=repository,
        reservations=Reservations(repository.store, repository.registry, repository.clock),
        crypto=repository.crypto,
        clock=repository.clock,
        ports=ports,
    )
    bus = CommandBus(services, HANDLERS)
    return Shop(bus, Books(bus) if books is None else books, ports)


def assert_recorded_once(shop: Shop, command: Command) -> None:
    """`command` sent twice writes its events once; the repeat answers the first result."""
    stream = target_stream(command)
    before = shop.revision(stream)

    first = shop.send(command)
    second = shop.send(command)

    assert first.events, "the command should have written something"
    assert not first.replayed
    assert second.replayed
    assert (second.stream, second.revision, second.position) == (
        first.stream,
        first.revision,
        first.position,
    )
    assert shop.revision(stream) == before + len(first.events)


def assert_recorded_once_after_a_lost_answer(shop: Shop, command: Command) -> None:
    """`command` whose answer is lost after its append (a crash), sent again, is not written
    twice, and the repeat answers where its events landed."""
    from tests.domain.test_repository import LosesTheFirstAnswer

    stream = target_stream(command)
    before = shop.revision(stream)
    flaky = shop.on(cast(EventStore, LosesTheFirstAnswer(shop.repository.store)))

    with pytest.raises(ConnectionResetError):
        flaky.send(command)
    written = shop.revision(stream)
    again = flaky.send(command)

    assert written > before, "the lost answer's events should have been written"
    assert again.replayed
    assert again.revision == written
    assert shop.revision(stream) == written


def rule_of(error: DomainError) -> tuple[str, str | None]:
    """An error's rule and field, to compare in one assert."""
    return error.rule, error.field


def types_of(events: Sequence[DomainEvent]) -> list[str]:
    """The type names of `events`."""
    return [type(event).event_type for event in events]


# -- fixtures (imported by the conftest of tests/domain/basket and tests/domain/ordering) ------


@pytest.fixture
def repository(event_store: EventStore, crypto: Crypto, clock: ManualClock) -> Repository:
    """The repository of the platform's events on the adapter under test."""
    return Repository(event_store, REGISTRY, crypto, clock)


@pytest.fixture
def shop(repository: Repository) -> Shop:
    """The real command bus on that repository."""
    return make_shop(repository)
