"""Which domain event is published as which integration event, keyed by what.

| domain event | integration event | key |
|---|---|---|
| FeedbackCreated | FeedbackCreatedIntegrationEvent | book id |
| FeedbackDeleted | FeedbackDeletedIntegrationEvent | book id |
| FeedbackRejected | BookUpdatedRatingFailedIntegrationEvent | book id |
| OrderPlaced | UserCheckedOutIntegrationEvent | order id |
| BasketCheckedOut | BasketDeletedCompleteIntegrationEvent | order id |
| BasketCheckoutFailed | BasketDeletedFailedIntegrationEvent | order id |
| OrderCompleted | OrderStatusChangedToCompleteIntegrationEvent | order id |
| OrderCancelled | OrderStatusChangedToCancelIntegrationEvent | order id |

Feedback events are keyed by their book (**Decision**): a book's rating is what consumers keep,
and a rejection must reach them after the creation it undoes. An event that lacks what its
integration event carries (the basket's events name no total, the order's status events no
buyer) takes it from the order's `OrderPlaced`, which never changes: the same source event is
always mapped to the same message.
"""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal
from uuid import UUID

from write_side.basket import BasketCheckedOut, BasketCheckoutFailed
from write_side.envelope import DomainEvent, EventRegistry, StoredEvent
from write_side.eventstore import EventFilter, EventStore, StreamNotFound
from write_side.ids import derive_id
from write_side.integration.events import (
    BasketDeletedCompleteIntegrationEvent,
    BasketDeletedFailedIntegrationEvent,
    BookUpdatedRatingFailedIntegrationEvent,
    FeedbackCreatedIntegrationEvent,
    FeedbackDeletedIntegrationEvent,
    IntegrationEvent,
    OrderStatusChangedToCancelIntegrationEvent,
    OrderStatusChangedToCompleteIntegrationEvent,
    UserCheckedOutIntegrationEvent,
)
from write_side.ordering import Order, OrderCancelled, OrderCompleted, OrderPlaced
from write_side.rating import FeedbackCreated, FeedbackDeleted, FeedbackRejected
from write_side.registry import REGISTRY

#: The domain events that are published, as a filter of `$all`.
SOURCE_EVENTS = EventFilter.event_types(
    FeedbackCreated.event_type,
    FeedbackDeleted.event_type,
    FeedbackRejected.event_type,
    OrderPlaced.event_type,
    BasketCheckedOut.event_type,
    BasketCheckoutFailed.event_type,
    OrderCompleted.event_type,
    OrderCancelled.event_type,
)

_ORDERS_REMEMBERED = 10_000


def message_id_for(source_event_id: UUID) -> UUID:
    """The message id of the integration event published on the domain event with this id."""
    return derive_id(source_event_id, "integration")


class IntegrationMapper:
    """Turns a stored domain event into its integration event (None for any other event)."""

    def __init__(self, store: EventStore, registry: EventRegistry = REGISTRY) -> None:
        self.store = store
        self.registry = registry
        self._orders: OrderedDict[UUID, tuple[UUID, Decimal] | None] = OrderedDict()

    def map(self, stored: StoredEvent) -> IntegrationEvent | None:
        """The integration event published on `stored`, always the same for the same event."""
        event = stored.event
        if not isinstance(event, DomainEvent):
            return None
        metadata = stored.metadata
        envelope = {
            "message_id": message_id_for(stored.id),
            "created_at": stored.recorded_at if metadata is None else metadata.occurred_at,
            "correlation_id": stored.id if metadata is None else metadata.correlation_id,
            "source_event_id": stored.id,
            "source_position": stored.position,
        }
        own_id = _id_of(stored.stream)
        match event:
            case FeedbackCreated():
                return FeedbackCreatedIntegrationEvent(
                    **envelope,
                    partition_key=str(event.book_id),
                    book_id=event.book_id,
                    rating=event.rating,
                    feedback_id=event.feedback_id,
                )
            case FeedbackDeleted():
                return FeedbackDeletedIntegrationEvent(
                    **envelope,
                    partition_key=str(event.book_id),
                    book_id=event.book_id,
                    rating=event.rating,
                    feedback_id=own_id,
                )
            case FeedbackRejected():
                return BookUpdatedRatingFailedIntegrationEvent(
                    **envelope,
                    partition_key=str(event.book_id),
                    feedback_id=own_id,
                    book_id=event.book_id,
                    rating=event.rating,
                    reason=str(event.reason),
                )
            case OrderPlaced():
                return UserCheckedOutIntegrationEvent(
                    **envelope,
                    partition_key=str(event.order_id),
                    order_id=event.order_id,
                    basket_id=event.buyer_id,
                    total_money=event.total,
                )
            case BasketCheckedOut():
                return BasketDeletedCompleteIntegrationEvent(
                    **envelope,
                    partition_key=str(event.order_id),
                    order_id=event.order_id,
                    basket_id=own_id,
                    total_money=self._total(event.order_id),
                )
            case BasketCheckoutFailed():
                return BasketDeletedFailedIntegrationEvent(
                    **envelope,
                    partition_key=str(event.order_id),
                    order_id=event.order_id,
                    basket_id=own_id,
                    total_money=self._total(event.order_id),
                    reason=event.reason,
                )
            case OrderCompleted():
                return OrderStatusChangedToCompleteIntegrationEvent(
                    **envelope,
                    partition_key=str(own_id),
                    order_id=own_id,
                    basket_id=self._buyer(own_id),
                    total_money=self._total(own_id),
                )
            case OrderCancelled():
                return OrderStatusChangedToCancelIntegrationEvent(
                    **envelope,
                    partition_key=str(own_id),
                    order_id=own_id,
                    basket_id=self._buyer(own_id),
                    total_money=self._total(own_id),
                    reason=event.reason,
                )
        return None

    def _buyer(self, order_id: UUID) -> UUID | None:
        placed = self._placed(order_id)
        return None if placed is None else placed[0]

    def _total(self, order_id: UUID) -> Decimal | None:
        placed = self._placed(order_id)
        return None if placed is None else placed[1]

    def _placed(self, order_id: UUID) -> tuple[UUID, Decimal] | None:
        if order_id in self._orders:
            self._orders.move_to_end(order_id)
            return self._orders[order_id]
        found: tuple[UUID, Decimal] | None = None
        try:
            first = self.store.read_stream(Order.stream_for(order_id), limit=1)
        except StreamNotFound:
            first = []
        if first:
            event = self.registry.decode(first[0]).event
            if isinstance(event, OrderPlaced):  # its buyer stays sealed: never opened here
                found = (event.buyer_id, event.total)
        self._orders[order_id] = found
        while len(self._orders) > _ORDERS_REMEMBERED:
            self._orders.popitem(last=False)
        return found


def _id_of(stream: str) -> UUID:
    return UUID(stream.split("-", 1)[1])


__all__ = ["SOURCE_EVENTS", "IntegrationMapper", "message_id_for"]
