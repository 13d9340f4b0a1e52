"""Integration event tests: real commands (catalog, rating, basket, ordering) over every event
store adapter, and the recorder that publishes their integration events."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

import pytest

from tests.domain.shop import HANDLERS, Shop, lines, repository, shop
from write_side import rating
from write_side.basket import CheckoutBasket
from write_side.domain import CommandBus
from write_side.envelope import StoredEvent
from write_side.eventstore import StreamNotFound
from write_side.integration import INTEGRATION_EVENTS, IntegrationEvent, IntegrationEventRecorder
from write_side.ordering import CancelOrder, CompleteOrder

__all__ = ["repository", "shop"]


@dataclass
class History:
    """What happened in a test: the domain events published, by type, in order."""

    shop: Shop
    bus: CommandBus
    sources: dict[str, list[StoredEvent]] = field(default_factory=dict)
    books: list[UUID] = field(default_factory=list)
    orders: list[UUID] = field(default_factory=list)
    feedbacks: list[UUID] = field(default_factory=list)
    buyer: UUID | None = None

    def collect(self, streams: set[str]) -> None:
        """Note the stored events of `streams`, by type."""
        store = self.shop.repository.store
        registry = self.shop.repository.registry
        self.sources.clear()
        for stream in sorted(streams):
            for raw in store.read_stream(stream):
                self.sources.setdefault(raw.type, []).append(registry.decode(raw))

    def streams(self) -> set[str]:
        """Every stream this history wrote to."""
        return (
            {f"book-{book}" for book in self.books}
            | {f"feedback-{feedback}" for feedback in self.feedbacks}
            | {f"order-{order}" for order in self.orders}
            | {f"basket-{self.buyer}"}
        )


def published(history: History) -> list[IntegrationEvent]:
    """The integration events of `history`'s sources, in `$all` order (on a shared store the
    streams hold other tests' messages too)."""
    mine = {event.id for events in history.sources.values() for event in events}
    store = history.shop.repository.store
    registry = history.shop.repository.registry
    found: list[tuple[int, IntegrationEvent]] = []
    for kind in INTEGRATION_EVENTS:
        try:
            recorded = store.read_stream(kind.stream())
        except StreamNotFound:
            continue
        for raw in recorded:
            event = registry.decode(raw).event
            assert isinstance(event, IntegrationEvent)
            if event.source_event_id in mine:
                found.append((raw.position, event))
    return [event for _, event in sorted(found, key=lambda pair: pair[0])]


@pytest.fixture
def history(shop: Shop) -> History:
    """Feedbacks created, deleted and rejected; an order checked out and completed; another
    whose checkout failed and which was cancelled. All by real commands."""
    bus = CommandBus(shop.bus.services, {**HANDLERS, **rating.HANDLERS})
    story = History(shop, bus)
    dune = shop.books.create("Dune", "9.99")
    emma = shop.books.create("Emma", "12.50", discount="10.00")
    story.books = [dune, emma]
    for book_id, rating_ in ((dune, 5), (emma, 3)):
        created = bus.dispatch(
            rating.CreateFeedback(book_id=book_id, first_name="Ada", last_name="L", rating=rating_)
        )
        story.feedbacks.append(created.aggregate_id)
    bus.dispatch(rating.DeleteFeedback(feedback_id=story.feedbacks[0]))
    bus.dispatch(
        rating.RejectFeedback(
            feedback_id=story.feedbacks[1], reason=rating.RejectionReason.BOOK_DELETED
        )
    )
    buyer = story.buyer = shop.buyer()
    shop.fill_basket(buyer, {dune: 2, emma: 1})
    shipped = shop.order(buyer)
    shop.send(CheckoutBasket(buyer_id=buyer, order_id=shipped, items=lines({dune: 2, emma: 1})))
    shop.send(CompleteOrder(order_id=shipped))
    shop.fill_basket(buyer, {dune: 1})
    cancelled = shop.order(buyer)
    shop.send(CheckoutBasket(buyer_id=buyer, order_id=cancelled, items=lines({dune: 7})))
    shop.send(CancelOrder(order_id=cancelled, roles=frozenset({"admin"})))
    story.orders = [shipped, cancelled]
    story.collect(story.streams())
    return story


@pytest.fixture
def recorder(shop: Shop) -> IntegrationEventRecorder:
    """The recorder on the store under test."""
    return IntegrationEventRecorder(shop.repository.store, shop.repository.registry)
