"""Order saga tests: the real command bus (catalog, basket, ordering, notification), the saga's
process manager fed the events of `$all` in order, the real due-time table and timer service on
the test's clock; on the embedded store and the EventStoreDB adapter (a test server of the
test's own)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest

from read_side.targets.sql import SqlTarget
from tests.domain.shop import HANDLERS as SHOP_HANDLERS
from tests.domain.shop import Shop, repository, shop
from tests.domain.timers import Deliveries, Timers, event_store, query_store
from write_side import finance, notification
from write_side.domain import CommandBus, ManualClock
from write_side.envelope import DomainEvent
from write_side.eventstore import EventFilter, StreamNotFound
from write_side.finance import OrderSaga, OrderSagaManager, SagaSettings
from write_side.notification import EmailKind, EmailQueued
from write_side.ordering import Order

__all__ = ["event_store", "query_store", "repository", "shop"]


@dataclass
class Placed:
    """An order placed by a buyer from a basket of one book."""

    order_id: UUID
    buyer_id: UUID
    book_id: UUID


@dataclass
class Saga:
    """The shop, its bus with Notification's handlers, the saga, its timers and deliveries."""

    shop: Shop
    bus: CommandBus
    manager: OrderSagaManager
    timers: Timers
    deliveries: Deliveries
    clock: ManualClock

    # -- given --------------------------------------------------------------------------------

    def place_order(self, *, name: str = "Ada Lovelace", quantity: int = 2) -> Placed:
        """A buyer with a basket of one book places an order (nothing delivered yet)."""
        buyer_id = self.shop.buyer(name=name)
        book_id = self.shop.books.create("Dune", "9.99")
        self.shop.fill_basket(buyer_id, {book_id: quantity})
        return Placed(self.shop.order(buyer_id), buyer_id, book_id)

    # -- when ---------------------------------------------------------------------------------

    def run(self, *, dropping: Collection[str] = ()) -> None:
        """Deliver everything new to the saga (events of `dropping` types never arrive)."""
        self.deliveries.run(dropping=dropping)

    def tick(self, by: timedelta, *, dropping: Collection[str] = ()) -> None:
        """The clock moves on, due timers fire, the saga hears of everything new."""
        self.clock.advance(by)
        self.timers.fire()
        self.run(dropping=dropping)

    # -- then ---------------------------------------------------------------------------------

    def saga(self, order_id: UUID) -> OrderSaga:
        """The saga's state."""
        return self.shop.repository.load(OrderSaga, order_id)

    def saga_events(self, order_id: UUID) -> list[DomainEvent]:
        """The saga's events."""
        return self.events(OrderSaga.stream_for(order_id))

    def order_events(self, order_id: UUID) -> list[DomainEvent]:
        """The order's events."""
        return self.events(Order.stream_for(order_id))

    def events(self, stream: str) -> list[DomainEvent]:
        """A stream's events, opened ([] when it does not exist)."""
        try:
            return self.shop.events(stream)
        except StreamNotFound:
            return []

    def emails(self, order_id: UUID) -> list[EmailKind]:
        """The kinds of the emails queued about the order, in order."""
        store = self.shop.repository.store
        kinds = []
        for recorded in store.read_all(filter=EventFilter.event_types(EmailQueued.event_type)):
            event = self.shop.repository.registry.decode(recorded).event
            assert isinstance(event, EmailQueued)
            if event.order_id == order_id:
                kinds.append(event.kind)
        return kinds

    def email_recipients(self, order_id: UUID) -> list[tuple[str, str]]:
        """Name and address of each email queued about the order, opened."""
        store = self.shop.repository.store
        crypto = self.shop.repository.crypto
        found = []
        for recorded in store.read_all(filter=EventFilter.event_types(EmailQueued.event_type)):
            event = self.shop.repository.registry.decode(recorded).event
            assert isinstance(event, EmailQueued)
            if event.order_id == order_id:
                content = crypto.open(event).content.require()
                found.append((content.to_name, content.to_address))
        return found


SETTINGS = SagaSettings()


def make_saga(shop: Shop, query_store: SqlTarget, settings: SagaSettings = SETTINGS) -> Saga:
    """The saga of `shop`, with its own settings."""
    services = shop.bus.services
    bus = CommandBus(services, {**SHOP_HANDLERS, **notification.HANDLERS})
    manager = finance.OrderSagaManager(bus, settings)
    store = services.repository.store
    clock = services.clock
    assert isinstance(clock, ManualClock)
    timers = Timers.on(store, query_store, clock)
    deliveries = Deliveries(store, [manager], store.head_position())
    return Saga(shop, bus, manager, timers, deliveries, clock)


@pytest.fixture
def saga(shop: Shop, query_store: SqlTarget) -> Saga:
    """The saga with the default settings: 3 attempts, 30 minutes apart."""
    return make_saga(shop, query_store)
