"""Integration events: what other systems may subscribe to, published from the event store by
a subscription (never from a handler) into `integration-{type}` streams, and from there to a
broker by `pipelines.integration_publisher` when one is configured."""

from __future__ import annotations

from write_side.eventstore import EventStore
from write_side.integration.events import (
    INTEGRATION_EVENTS,
    STREAM_PREFIX,
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
from write_side.integration.mapping import SOURCE_EVENTS, IntegrationMapper, message_id_for
from write_side.integration.recorder import IntegrationEventRecorder


def services(store: EventStore) -> list[IntegrationEventRecorder]:
    """What a worker runs for integration events on `store`: the recorder (one thread)."""
    return [IntegrationEventRecorder(store)]


__all__ = [
    "INTEGRATION_EVENTS",
    "SOURCE_EVENTS",
    "STREAM_PREFIX",
    "BasketDeletedCompleteIntegrationEvent",
    "BasketDeletedFailedIntegrationEvent",
    "BookUpdatedRatingFailedIntegrationEvent",
    "FeedbackCreatedIntegrationEvent",
    "FeedbackDeletedIntegrationEvent",
    "IntegrationEvent",
    "IntegrationEventRecorder",
    "IntegrationMapper",
    "OrderStatusChangedToCancelIntegrationEvent",
    "OrderStatusChangedToCompleteIntegrationEvent",
    "UserCheckedOutIntegrationEvent",
    "message_id_for",
    "services",
]
