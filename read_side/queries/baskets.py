"""The caller's basket, with each item's current name, price and discount price.

Served from the cache port when one is given (Redis in production): the `baskets` projection
writes each basket's answer there, as the JSON bytes the API returns, after every batch that
changes it (a basket event, or a book of it renamed, repriced, out of stock or deleted). A
miss falls back to the query tables. The query never fills the cache itself: only the
projection writes it, in event order, so a slow reader cannot put an older answer back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection, RowMapping, select

from read_side.cache import Cache
from read_side.projections.baskets_tables import VIEWS, BasketTables
from write_side.chunking import chunks

#: How long a basket's cached answer lives: a crash between a batch's commit and the cache
#: write leaves the cached answer stale for at most this long.
BASKET_CACHE_TTL = timedelta(hours=1)
#: The cached answer of a buyer without an open basket.
NO_BASKET = b"null"


def basket_key(buyer_id: UUID) -> str:
    """The cache key of a buyer's basket."""
    return f"basket:{buyer_id}"


class BasketItem(BaseModel):
    """A book in the basket, as the catalog shows it now."""

    model_config = ConfigDict(frozen=True)

    book_id: UUID
    name: str | None
    """None only for a book the catalog has never shown (it cannot be ordered)."""
    quantity: int
    price: Decimal | None
    discount_price: Decimal | None
    unit_price: Decimal | None
    """What one copy costs now: the discount price if any, else the price."""
    in_stock: bool
    deleted: bool


class BasketView(BaseModel):
    """A buyer's open basket, items in the order they were added, priced now."""

    model_config = ConfigDict(frozen=True)

    buyer_id: UUID
    items: list[BasketItem]
    total: Decimal
    """Sum of quantity * unit price of the items that can be ordered (in stock, not deleted)."""
    updated_at: datetime
    version: int
    """The basket stream's revision when the answer was made (the API's `ETag`)."""


def get_basket(
    conn: Connection, buyer_id: UUID, *, cache: Cache | None = None
) -> BasketView | None:
    """The open basket of buyer `buyer_id` (the caller), None when it has none."""
    if cache is not None:
        cached = cache.get(basket_key(buyer_id))
        if cached == NO_BASKET:
            return None
        if cached is not None:
            try:
                return BasketView.model_validate_json(cached)
            except ValidationError:
                pass  # cached by an older release in another shape: read the tables
    return render_baskets(conn, VIEWS, [buyer_id])[buyer_id]


def to_json(basket: BasketView | None) -> bytes:
    """The answer's bytes, as cached and served."""
    return NO_BASKET if basket is None else basket.model_dump_json().encode()


def render_baskets(
    conn: Connection, tables: BasketTables, buyer_ids: Iterable[UUID]
) -> dict[UUID, BasketView | None]:
    """The answers for `buyer_ids` from `tables` (the views, or a build's tables)."""
    wanted = sorted(set(buyer_ids))
    answers: dict[UUID, BasketView | None] = dict.fromkeys(wanted)
    baskets, items, books = tables.baskets, tables.items, tables.books
    for chunk in chunks(wanted):
        open_ones = conn.execute(
            select(baskets.c.buyer_id, baskets.c.updated_at, baskets.c.version).where(
                baskets.c.buyer_id.in_(chunk), baskets.c.is_open
            )
        ).all()
        lines: dict[UUID, list[BasketItem]] = {row.buyer_id: [] for row in open_ones}
        query = (
            select(
                items.c.buyer_id,
                items.c.book_id,
                items.c.quantity,
                books.c.name,
                books.c.price,
                books.c.discount_price,
                books.c.in_stock,
                books.c.deleted,
            )
            .join_from(items, books, books.c.book_id == items.c.book_id, isouter=True)
            .where(items.c.buyer_id.in_(list(lines)))
            .order_by(items.c.buyer_id, items.c.seq, items.c.book_id)
        )
        for line in conn.execute(query).mappings() if lines else ():
            lines[line["buyer_id"]].append(_item(line))
        for row in open_ones:
            answers[row.buyer_id] = BasketView(
                buyer_id=row.buyer_id,
                items=lines[row.buyer_id],
                total=_total(lines[row.buyer_id]),
                updated_at=row.updated_at,
                version=row.version,
            )
    return answers


def _item(row: RowMapping) -> BasketItem:
    known = row["name"] is not None
    price, discount = row["price"], row["discount_price"]
    return BasketItem(
        book_id=row["book_id"],
        name=row["name"],
        quantity=row["quantity"],
        price=price,
        discount_price=discount,
        unit_price=discount if discount is not None else price,
        in_stock=known and bool(row["in_stock"]),
        deleted=known and bool(row["deleted"]),
    )


def _total(items: list[BasketItem]) -> Decimal:
    total = Decimal("0.00")
    for item in items:
        if item.unit_price is not None and item.in_stock and not item.deleted:
            total += item.unit_price * item.quantity
    return total
