"""The events of the order saga (stream `ordersaga-{order id}`): what it decided, step by step.

The timeout's events are declared to the scheduler: `SagaTimeoutScheduled` schedules a durable
timer, `SagaTimeoutCancelled` cancels it; the timer service answers with `TimerElapsed` in the
same stream.
"""

from __future__ import annotations

from uuid import UUID

from write_side.basket import BasketLine
from write_side.envelope import DomainEvent, UtcDateTime
from write_side.registry import REGISTRY
from write_side.scheduler import TIMERS


@REGISTRY.event("OrderSagaStarted")
class OrderSagaStarted(DomainEvent):
    """The saga took order `order_id` in hand (state Placed), with what its basket must hold."""

    order_id: UUID
    buyer_id: UUID
    items: tuple[BasketLine, ...]


@REGISTRY.event("BasketCheckoutRequested")
class BasketCheckoutRequested(DomainEvent):
    """The saga asked the buyer's basket to check out as the order (attempt 1, 2, …)."""

    attempt: int


@REGISTRY.event("BasketCheckoutConfirmed")
class BasketCheckoutConfirmed(DomainEvent):
    """The basket checked out as the order."""


@REGISTRY.event("BasketCheckoutRejected")
class BasketCheckoutRejected(DomainEvent):
    """The basket could not check out as the order (`reason` from `BasketCheckoutFailed`)."""

    reason: str


@TIMERS.schedules
@REGISTRY.event("SagaTimeoutScheduled")
class SagaTimeoutScheduled(DomainEvent):
    """A timeout for the pending checkout, due at `due_at` (a durable timer)."""

    timer_id: UUID
    due_at: UtcDateTime


@TIMERS.cancels
@REGISTRY.event("SagaTimeoutCancelled")
class SagaTimeoutCancelled(DomainEvent):
    """The pending timeout is no longer wanted (the checkout was answered, the saga ended)."""

    timer_id: UUID


@REGISTRY.event("OrderSagaCompleted")
class OrderSagaCompleted(DomainEvent):
    """The order was completed (shipped): the saga ends as Completed."""


@REGISTRY.event("OrderSagaCancelled")
class OrderSagaCancelled(DomainEvent):
    """The order was cancelled, by someone or by the saga when the checkout timed out: the saga
    ends as Cancelled. `reason` is `checkout_timed_out` or `order_cancelled`."""

    reason: str


@REGISTRY.event("OrderSagaFailed")
class OrderSagaFailed(DomainEvent):
    """The basket checkout failed and the order was soft-deleted: the saga ends as Failed."""

    reason: str


__all__ = [
    "BasketCheckoutConfirmed",
    "BasketCheckoutRejected",
    "BasketCheckoutRequested",
    "OrderSagaCancelled",
    "OrderSagaCompleted",
    "OrderSagaFailed",
    "OrderSagaStarted",
    "SagaTimeoutCancelled",
    "SagaTimeoutScheduled",
]
