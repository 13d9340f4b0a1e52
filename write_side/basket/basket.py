"""The Basket aggregate: one stream per buyer for life, loaded from a snapshot.

A basket is open (holding one to `MAX_BOOKS` distinct books, each with a quantity > 0) or
closed (never opened, checked out, deleted). Updates replace the whole item list, and the
basket records the difference item by item, which is what the funnel analytics read. An update
of a closed basket opens a new one (`BasketCreated` again).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from write_side.basket.commands import BasketLine
from write_side.basket.events import (
    BasketCheckedOut,
    BasketCheckoutFailed,
    BasketCreated,
    BasketDeleted,
    BasketItemAdded,
    BasketItemQuantityChanged,
    BasketItemRemoved,
)
from write_side.catalog.lookup import BookInfo
from write_side.domain import Aggregate, DomainError, InvalidValue, NotFound, applies
from write_side.envelope import DomainEvent

#: At most this many distinct books in one basket.
MAX_BOOKS = 50


class CheckoutFailure(StrEnum):
    """Why a checkout failed: the `reason` of `BasketCheckoutFailed`."""

    NO_BASKET = "basket_not_found"
    """The buyer never had a basket."""
    DELETED = "basket_deleted"
    """The basket was deleted (emptied) after the order was placed."""
    CHECKED_OUT = "basket_checked_out"
    """The basket was checked out already, by another order."""
    CHANGED = "basket_changed"
    """The basket holds other books or quantities than the order was placed from."""


class Basket(Aggregate):
    """A buyer's basket (id = the buyer's id), open or closed, and the orders it answered."""

    category = "basket"
    snapshot_every = 20
    #: How many order ids the basket remembers having answered (the newest), for idempotency.
    remembered_orders: ClassVar[int] = 1000

    status: Literal["none", "open", "checked_out", "deleted"] = "none"
    items: dict[UUID, int] = Field(default_factory=dict)
    """Book id -> quantity, in the order the books were added."""
    checkouts: dict[UUID, bool] = Field(default_factory=dict)
    """Order id -> whether its checkout succeeded."""

    @property
    def is_open(self) -> bool:
        """True while the basket holds items (between `BasketCreated` and its closing)."""
        return self.status == "open"

    # -- deciding -----------------------------------------------------------------------------

    @staticmethod
    def wanted(lines: Iterable[BasketLine]) -> dict[UUID, int]:
        """The item list of an update, once its own rules hold (no lookup needed for these).

        Rules: at least one item, each quantity > 0, each book once, at most `MAX_BOOKS`; a
        broken one is an `InvalidValue` (422), as the request itself is wrong.
        """
        wanted: dict[UUID, int] = {}
        for index, line in enumerate(lines):
            if line.quantity <= 0:
                raise InvalidValue(
                    "quantity_positive",
                    f"the quantity of book {line.book_id} must be > 0",
                    field=f"items[{index}].quantity",
                )
            if line.book_id in wanted:
                raise InvalidValue(
                    "duplicate_book",
                    f"book {line.book_id} is listed twice",
                    field=f"items[{index}].book_id",
                )
            wanted[line.book_id] = line.quantity
        if not wanted:
            raise InvalidValue("basket_empty", "a basket holds at least one item", field="items")
        if len(wanted) > MAX_BOOKS:
            raise InvalidValue(
                "basket_too_many_books",
                f"a basket holds at most {MAX_BOOKS} distinct books, not {len(wanted)}",
                field="items",
            )
        return wanted

    def replace(
        self, wanted: Mapping[UUID, int], books: Mapping[UUID, BookInfo | None]
    ) -> list[DomainEvent]:
        """Decide `UpdateBasket`: the events that turn the item list into `wanted`.

        `wanted` comes from `Basket.wanted`; `books` is what the catalog says of each of its
        books: every one must exist and not be deleted.
        """
        for index, book_id in enumerate(wanted):
            _require_book(book_id, books.get(book_id), f"items[{index}].book_id")
        events = self._opening()
        current = self.items if self.is_open else {}
        for book_id, quantity in wanted.items():
            old = current.get(book_id)
            if old is None:
                events.append(BasketItemAdded(book_id=book_id, quantity=quantity))
            elif old != quantity:
                events.append(BasketItemQuantityChanged(book_id=book_id, old=old, new=quantity))
        events.extend(
            BasketItemRemoved(book_id=book_id) for book_id in current if book_id not in wanted
        )
        return events

    def add(self, book_id: UUID, quantity: int, book: BookInfo | None) -> list[DomainEvent]:
        """Decide `AddBasketItem`: `quantity` more copies of a book that exists, not deleted."""
        if quantity <= 0:
            raise InvalidValue("quantity_positive", "the quantity must be > 0", field="quantity")
        _require_book(book_id, book, "book_id")
        old = self.items.get(book_id) if self.is_open else None
        if old is not None:
            return [BasketItemQuantityChanged(book_id=book_id, old=old, new=old + quantity)]
        if self.is_open and len(self.items) >= MAX_BOOKS:
            raise DomainError(
                "basket_too_many_books",
                f"a basket holds at most {MAX_BOOKS} distinct books",
                field="book_id",
            )
        return [*self._opening(), BasketItemAdded(book_id=book_id, quantity=quantity)]

    def checkout(self, order_id: UUID, lines: Iterable[BasketLine]) -> list[DomainEvent]:
        """Decide `CheckoutBasket`: checked out when the basket holds exactly `lines`, else a
        `BasketCheckoutFailed` naming why; nothing when this order was answered before."""
        if order_id in self.checkouts:
            return []
        failure = self._checkout_failure(lines)
        if failure is not None:
            return [BasketCheckoutFailed(order_id=order_id, reason=failure.value)]
        return [BasketCheckedOut(order_id=order_id)]

    def delete(self, reason: str) -> list[DomainEvent]:
        """Decide `DeleteBasket`: only an open basket can be deleted."""
        if not self.is_open:
            raise NotFound("basket_not_found", f"buyer {self.id} has no basket", field="buyer_id")
        return [BasketDeleted(reason=reason)]

    def _opening(self) -> list[DomainEvent]:
        return [] if self.is_open else [BasketCreated(buyer_id=self.id)]

    def _checkout_failure(self, lines: Iterable[BasketLine]) -> CheckoutFailure | None:
        if self.status == "none":
            return CheckoutFailure.NO_BASKET
        if self.status == "deleted":
            return CheckoutFailure.DELETED
        if self.status == "checked_out":
            return CheckoutFailure.CHECKED_OUT
        ordered: dict[UUID, int] = {}
        for line in lines:
            ordered[line.book_id] = ordered.get(line.book_id, 0) + line.quantity
        if ordered != self.items:
            return CheckoutFailure.CHANGED
        return None

    # -- evolving -----------------------------------------------------------------------------

    @applies(BasketCreated)
    def _created(self, event: BasketCreated) -> None:
        self.status = "open"
        self.items = {}

    @applies(BasketItemAdded)
    def _added(self, event: BasketItemAdded) -> None:
        self.items[event.book_id] = event.quantity

    @applies(BasketItemQuantityChanged)
    def _quantity_changed(self, event: BasketItemQuantityChanged) -> None:
        self.items[event.book_id] = event.new

    @applies(BasketItemRemoved)
    def _removed(self, event: BasketItemRemoved) -> None:
        self.items.pop(event.book_id, None)

    @applies(BasketCheckedOut)
    def _checked_out(self, event: BasketCheckedOut) -> None:
        self.status = "checked_out"
        self.items = {}
        self._answered(event.order_id, succeeded=True)

    @applies(BasketCheckoutFailed)
    def _checkout_failed(self, event: BasketCheckoutFailed) -> None:
        self._answered(event.order_id, succeeded=False)

    @applies(BasketDeleted)
    def _deleted(self, event: BasketDeleted) -> None:
        self.status = "deleted"
        self.items = {}

    def _answered(self, order_id: UUID, *, succeeded: bool) -> None:
        self.checkouts.pop(order_id, None)
        self.checkouts[order_id] = succeeded
        while len(self.checkouts) > self.remembered_orders:
            del self.checkouts[next(iter(self.checkouts))]


def _require_book(book_id: UUID, book: BookInfo | None, field: str) -> None:
    if book is None:
        raise NotFound("book_not_found", f"there is no book {book_id}", field=field)
    if book.deleted:
        raise DomainError("book_deleted", f"book {book_id} is deleted", field=field)


__all__ = ["MAX_BOOKS", "Basket", "CheckoutFailure"]
