"""The saga's own commands: how the process manager records each step on `ordersaga-{order id}`.

They are sent by the process manager only (not through the command bus), each with a command id
derived from the event it answers, so a redelivered event is answered once by the repository.
"""

from __future__ import annotations

from uuid import UUID

from write_side.basket import BasketLine
from write_side.domain import Command


class StartOrderSaga(Command):
    """Take a newly placed order in hand."""

    order_id: UUID
    buyer_id: UUID
    items: tuple[BasketLine, ...]


class ConfirmBasketCheckout(Command):
    """The basket checked out as the order."""

    order_id: UUID


class RejectBasketCheckout(Command):
    """The basket could not check out as the order."""

    order_id: UUID
    reason: str


class ExpireSagaTimeout(Command):
    """Timer `timer_id` of the saga elapsed."""

    order_id: UUID
    timer_id: UUID


class CompleteOrderSaga(Command):
    """The order was completed."""

    order_id: UUID


class CancelOrderSaga(Command):
    """The order was cancelled (by someone else than the saga)."""

    order_id: UUID


__all__ = [
    "CancelOrderSaga",
    "CompleteOrderSaga",
    "ConfirmBasketCheckout",
    "ExpireSagaTimeout",
    "RejectBasketCheckout",
    "StartOrderSaga",
]
