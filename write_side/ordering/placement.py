"""What `PlaceOrder` checks before an order is placed: the buyer, its basket and the books."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from write_side.basket import Basket
from write_side.catalog.lookup import BookInfo
from write_side.domain import DomainError, NotFound, Sealed
from write_side.ordering.buyer import Buyer
from write_side.ordering.order import OrderLine
from write_side.ordering.personal import Contact


def buyer_contact(buyer: Buyer) -> Sealed[Contact]:
    """The name and email to capture in the order; the buyer must exist, not deleted or
    forgotten."""
    buyer.require_active()
    if buyer.contact is None:  # an existing buyer always has one; this keeps mypy honest
        raise NotFound("buyer_not_found", f"buyer {buyer.id} has no contact", field="buyer_id")
    return buyer.contact


def basket_items(basket: Basket) -> dict[UUID, int]:
    """The items to order: the basket must be open and hold at least one item.

    **Decision**: the reference accepts an empty basket; here it is refused.
    """
    if not basket.is_open:
        raise NotFound("basket_not_found", f"buyer {basket.id} has no basket")
    if not basket.items:
        raise DomainError("basket_empty", f"the basket of buyer {basket.id} is empty")
    return dict(basket.items)


def priced_lines(
    items: Mapping[UUID, int], books: Mapping[UUID, BookInfo | None]
) -> tuple[OrderLine, ...]:
    """The order's lines, priced now: every book must exist, not be deleted, be in stock."""
    lines = []
    for book_id, quantity in items.items():
        book = books.get(book_id)
        if book is None:
            raise NotFound("book_not_found", f"the basket holds book {book_id}, which is gone")
        if book.deleted:
            raise DomainError("book_deleted", f"book {book.name!r} ({book_id}) is deleted")
        if not book.in_stock:
            raise DomainError(
                "book_out_of_stock", f"book {book.name!r} ({book_id}) is out of stock"
            )
        lines.append(
            OrderLine(
                book_id=book_id,
                book_name=book.name,
                quantity=quantity,
                unit_price=book.unit_price,
            )
        )
    return tuple(lines)


__all__ = ["basket_items", "buyer_contact", "priced_lines"]
