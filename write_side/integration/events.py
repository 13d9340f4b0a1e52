"""The integration events: what other systems may subscribe to, named as the reference's
contracts (`BookWorm.Contracts`) name them.

Every integration event carries the envelope a consumer needs: `message_id` (derived from the
id of the domain event it was published on, so publishing it again gives the same message),
`partition_key` (the order id, or the book id of feedback events: whatever must be seen in
order), `created_at` (the business time of the source event) and `correlation_id` (the flow of
the command that caused it), and where it came from (`source_event_id`, `source_position`).

**Decision**: integration events carry no personal data. The reference's contracts carry the
buyer's full name and email; here they would leave the platform in the clear, beyond the reach
of crypto-shredding (a broker's queues, other systems' stores). A consumer that must write to
the buyer asks Ordering, which honours an erasure. `basket_id` is the buyer's id (a basket's
id is its buyer's).
"""

from __future__ import annotations

from uuid import UUID

from write_side.envelope import DomainEvent, Money
from write_side.envelope.fields import UtcDateTime
from write_side.registry import REGISTRY

#: Integration events live in streams `integration-{event type}`.
STREAM_PREFIX = "integration-"


class IntegrationEvent(DomainEvent):
    """Base of every integration event: the envelope a consumer de-duplicates and orders by."""

    message_id: UUID
    partition_key: str
    created_at: UtcDateTime
    correlation_id: UUID
    source_event_id: UUID
    source_position: int

    @classmethod
    def stream(cls) -> str:
        """The stream of this type of integration event: `integration-{type}`."""
        return f"{STREAM_PREFIX}{cls.event_type}"


@REGISTRY.event("FeedbackCreatedIntegrationEvent")
class FeedbackCreatedIntegrationEvent(IntegrationEvent):
    """A feedback rated a book (on FeedbackCreated); keyed by the book."""

    book_id: UUID
    rating: int
    feedback_id: UUID


@REGISTRY.event("FeedbackDeletedIntegrationEvent")
class FeedbackDeletedIntegrationEvent(IntegrationEvent):
    """A feedback was removed (on FeedbackDeleted); keyed by the book."""

    book_id: UUID
    rating: int
    feedback_id: UUID


@REGISTRY.event("BookUpdatedRatingFailedIntegrationEvent")
class BookUpdatedRatingFailedIntegrationEvent(IntegrationEvent):
    """A feedback on a missing or deleted book was rejected (on FeedbackRejected); keyed by
    the book, so it follows the feedback's FeedbackCreatedIntegrationEvent."""

    feedback_id: UUID
    book_id: UUID
    rating: int
    reason: str


@REGISTRY.event("UserCheckedOutIntegrationEvent")
class UserCheckedOutIntegrationEvent(IntegrationEvent):
    """A buyer placed an order (on OrderPlaced); keyed by the order."""

    order_id: UUID
    basket_id: UUID
    total_money: Money


@REGISTRY.event("BasketDeletedCompleteIntegrationEvent")
class BasketDeletedCompleteIntegrationEvent(IntegrationEvent):
    """The basket was checked out as the order (on BasketCheckedOut); keyed by the order.
    `total_money` is None only for an order the store does not hold."""

    order_id: UUID
    basket_id: UUID
    total_money: Money | None


@REGISTRY.event("BasketDeletedFailedIntegrationEvent")
class BasketDeletedFailedIntegrationEvent(IntegrationEvent):
    """The basket could not be checked out (on BasketCheckoutFailed); keyed by the order."""

    order_id: UUID
    basket_id: UUID
    total_money: Money | None
    reason: str


@REGISTRY.event("OrderStatusChangedToCompleteIntegrationEvent")
class OrderStatusChangedToCompleteIntegrationEvent(IntegrationEvent):
    """The order was completed (on OrderCompleted); keyed by the order."""

    order_id: UUID
    basket_id: UUID | None
    total_money: Money | None


@REGISTRY.event("OrderStatusChangedToCancelIntegrationEvent")
class OrderStatusChangedToCancelIntegrationEvent(IntegrationEvent):
    """The order was cancelled (on OrderCancelled); keyed by the order."""

    order_id: UUID
    basket_id: UUID | None
    total_money: Money | None
    reason: str


#: Every integration event type.
INTEGRATION_EVENTS: tuple[type[IntegrationEvent], ...] = (
    FeedbackCreatedIntegrationEvent,
    FeedbackDeletedIntegrationEvent,
    BookUpdatedRatingFailedIntegrationEvent,
    UserCheckedOutIntegrationEvent,
    BasketDeletedCompleteIntegrationEvent,
    BasketDeletedFailedIntegrationEvent,
    OrderStatusChangedToCompleteIntegrationEvent,
    OrderStatusChangedToCancelIntegrationEvent,
)

__all__ = [
    "INTEGRATION_EVENTS",
    "STREAM_PREFIX",
    "BasketDeletedCompleteIntegrationEvent",
    "BasketDeletedFailedIntegrationEvent",
    "BookUpdatedRatingFailedIntegrationEvent",
    "FeedbackCreatedIntegrationEvent",
    "FeedbackDeletedIntegrationEvent",
    "IntegrationEvent",
    "OrderStatusChangedToCancelIntegrationEvent",
    "OrderStatusChangedToCompleteIntegrationEvent",
    "UserCheckedOutIntegrationEvent",
]
