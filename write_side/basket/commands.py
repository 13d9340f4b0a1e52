"""The commands of a basket. The basket's id is its buyer's id (the caller's user id)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict

from write_side.domain import Command


class BasketLine(BaseModel):
    """One line of a basket as a caller sends it: a book and how many copies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    book_id: UUID
    quantity: int


class UpdateBasket(Command):
    """Replace the basket's whole item list (the HTTP contract); opens a basket when none is.

    The basket records what changed, item by item. `expected_version` is the revision the
    caller read (`If-Match`): when given, a basket changed since is a `StaleVersion`; without
    it, the last update wins.
    """

    buyer_id: UUID
    items: tuple[BasketLine, ...]


class AddBasketItem(Command):
    """Put `quantity` more copies of one book in the basket (opening one when none is).

    Unlike `UpdateBasket`, it is decided on the basket as it is when it lands, so concurrent
    additions all count.
    """

    buyer_id: UUID
    book_id: UUID
    quantity: int = 1


class CheckoutBasket(Command):
    """Asked by the order saga: close the basket as order `order_id`, placed from `items`.

    Never a domain error: when the basket no longer holds exactly `items` (deleted, emptied,
    changed or already checked out) the answer is a `BasketCheckoutFailed` event, to which the
    saga reacts. Idempotent per order id: a second request for the same order writes nothing.
    """

    buyer_id: UUID
    order_id: UUID
    items: tuple[BasketLine, ...]


class DeleteBasket(Command):
    """Throw the open basket away."""

    buyer_id: UUID
    reason: str = "deleted by the buyer"


__all__ = ["AddBasketItem", "BasketLine", "CheckoutBasket", "DeleteBasket", "UpdateBasket"]
