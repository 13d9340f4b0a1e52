"""The events of a basket (stream `basket-{buyer id}`): what changed, item by item."""

from __future__ import annotations

from uuid import UUID

from write_side.envelope import DomainEvent
from write_side.registry import REGISTRY


@REGISTRY.event("BasketCreated")
class BasketCreated(DomainEvent):
    """A new basket was opened: the buyer's first, or one after a checkout or a deletion."""

    buyer_id: UUID


@REGISTRY.event("BasketItemAdded")
class BasketItemAdded(DomainEvent):
    """A book the basket did not hold was put in it."""

    book_id: UUID
    quantity: int


@REGISTRY.event("BasketItemQuantityChanged")
class BasketItemQuantityChanged(DomainEvent):
    """The quantity of a book in the basket changed from `old` to `new`."""

    book_id: UUID
    old: int
    new: int


@REGISTRY.event("BasketItemRemoved")
class BasketItemRemoved(DomainEvent):
    """A book was taken out of the basket."""

    book_id: UUID


@REGISTRY.event("BasketCheckedOut")
class BasketCheckedOut(DomainEvent):
    """The basket became order `order_id`; it is closed (the next update opens a new one)."""

    order_id: UUID


@REGISTRY.event("BasketCheckoutFailed")
class BasketCheckoutFailed(DomainEvent):
    """The basket no longer held what order `order_id` was placed from; the saga compensates.

    `reason` is one of `CheckoutFailure`'s values.
    """

    order_id: UUID
    reason: str


@REGISTRY.event("BasketDeleted")
class BasketDeleted(DomainEvent):
    """The basket was thrown away; it is closed (the next update opens a new one)."""

    reason: str


__all__ = [
    "BasketCheckedOut",
    "BasketCheckoutFailed",
    "BasketCreated",
    "BasketDeleted",
    "BasketItemAdded",
    "BasketItemQuantityChanged",
    "BasketItemRemoved",
]
