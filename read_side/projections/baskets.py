"""`baskets`: each buyer's open basket, and the books' current names and prices (SQL target).

A batch is folded in Python: the baskets and books it touches are loaded once, changed event
by event, and written back (a basket's items are replaced as a set). With a cache port the
projection also keeps each basket's answer there (`read_side.queries.baskets`): after the
batch commits, `carry_out` writes the new bytes of every basket the batch changed, including
those holding a book that was renamed, repriced, put out of stock or deleted. A rebuild
silences that (the live build keeps the cache), so it costs a rebuild nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import Index, delete, select

from read_side.cache import Cache
from read_side.projection import Projection
from read_side.projections import baskets_tables as t
from read_side.projections.ordering_sql import occurred_at, put_rows, rows_by_key, stream_id
from read_side.queries.baskets import BASKET_CACHE_TTL, basket_key, render_baskets, to_json
from read_side.targets.sql import SqlTx
from write_side.basket import (
    BasketCheckedOut,
    BasketCheckoutFailed,
    BasketCreated,
    BasketDeleted,
    BasketItemAdded,
    BasketItemQuantityChanged,
    BasketItemRemoved,
)
from write_side.catalog import (
    BookCreated,
    BookDeleted,
    BookDetailsUpdated,
    BookPriceChanged,
    BookStatus,
    BookStockStatusChanged,
)
from write_side.chunking import chunks
from write_side.envelope import StoredEvent
from write_side.eventstore import EventFilter, RecordedEvent
from write_side.registry import REGISTRY

BASKET_EVENTS = (
    BasketCreated,
    BasketItemAdded,
    BasketItemQuantityChanged,
    BasketItemRemoved,
    BasketCheckedOut,
    BasketCheckoutFailed,
    BasketDeleted,
)
BOOK_EVENTS = (
    BookCreated,
    BookDetailsUpdated,
    BookPriceChanged,
    BookStockStatusChanged,
    BookDeleted,
)
log = logging.getLogger(__name__)

#: The kind of side effect that puts a basket's answer in the cache.
CACHE_BASKET = "cache_basket"


@dataclass
class _Batch:
    """The baskets and books one batch touches, as loaded and then changed."""

    baskets: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    items: dict[UUID, dict[UUID, dict[str, Any]]] = field(default_factory=dict)
    books: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    changed_books: set[UUID] = field(default_factory=set)


class BasketsProjection(Projection[SqlTx]):
    """Open baskets and the catalog's current book names and prices; the cache kept current."""

    name: ClassVar[str] = t.NAME
    handles: ClassVar[EventFilter] = EventFilter.event_types(
        *(kind.event_type for kind in (*BASKET_EVENTS, *BOOK_EVENTS))
    )
    target_kind: ClassVar[str] = "sql"
    side_effects: ClassVar[bool] = True

    def __init__(self, cache: Cache | None = None) -> None:
        self.cache = cache
        self._tables: dict[int, t.BasketTables] = {}

    def tables(self) -> Sequence[str]:
        return t.SUFFIXES

    def build_tables(self, tx: SqlTx, build: int) -> t.BasketTables:
        """The tables of `build`."""
        if build not in self._tables:
            self._tables[build] = t.BasketTables.named(tx.table(self.name, build))
        return self._tables[build]

    def create(self, tx: SqlTx, build: int) -> None:
        tables = self.build_tables(tx, build)
        for table in (tables.baskets, tables.items, tables.books):
            table.create(tx.connection)
        items = tables.items
        Index(f"{items.name}_by_book", items.c.book_id).create(tx.connection)

    def apply(self, events: Sequence[RecordedEvent], tx: SqlTx, build: int) -> None:
        tables = self.build_tables(tx, build)
        stored = [REGISTRY.decode(recorded) for recorded in events]
        batch = self._load(tx, tables, stored)
        for one in stored:
            if one.stream.startswith("book-"):
                self._fold_book(batch, one)
            else:
                self._fold_basket(batch, one)
        self._write(tx, tables, batch)
        if self.cache is not None and not tx.effects.silent:
            self._send_answers(tx, tables, batch)

    def carry_out(self, sent: list[tuple[str, Any]]) -> None:
        """Put the committed answers in the cache; a failed write drops the stale entry.

        Never raises: the batch is committed, and the cache is only a copy of the tables
        (the query falls back to them on a miss).
        """
        assert self.cache is not None
        for kind, (buyer_id, answer) in sent:
            if kind != CACHE_BASKET:
                continue
            key = basket_key(buyer_id)
            try:
                self.cache.set(key, answer, ttl=BASKET_CACHE_TTL)
            except Exception:
                log.exception("baskets: could not cache the basket of %s", buyer_id)
                with contextlib.suppress(Exception):
                    self.cache.delete(key)

    # -- folding ---------------------------------------------------------------------------

    def _fold_basket(self, batch: _Batch, stored: StoredEvent) -> None:
        event, at = stored.event, occurred_at(stored)
        buyer_id = stream_id(stored.stream)
        items = batch.items.setdefault(buyer_id, {})
        basket = batch.baskets.get(buyer_id)
        if isinstance(event, BasketCreated):
            basket = batch.baskets[buyer_id] = {"buyer_id": buyer_id, "last_order_id": None}
            basket["is_open"] = True
            items.clear()
        if basket is None and isinstance(event, BasketCheckoutFailed):
            return  # a checkout asked of a buyer who never had a basket: nothing to show
        if basket is None:
            raise LookupError(f"{stored.type} of basket {buyer_id}, which was never created")
        if isinstance(event, BasketItemAdded):
            items[event.book_id] = {
                "buyer_id": buyer_id,
                "book_id": event.book_id,
                "quantity": event.quantity,
                "added_at": at,
                "seq": stored.position,
            }
        elif isinstance(event, BasketItemQuantityChanged):
            items[event.book_id]["quantity"] = event.new
        elif isinstance(event, BasketItemRemoved):
            del items[event.book_id]
        elif isinstance(event, BasketCheckedOut | BasketDeleted):
            basket["is_open"] = False
            items.clear()
            if isinstance(event, BasketCheckedOut):
                basket["last_order_id"] = event.order_id
        basket.update(updated_at=at, version=stored.revision)

    def _fold_book(self, batch: _Batch, stored: StoredEvent) -> None:
        event = stored.event
        book_id = stream_id(stored.stream)
        batch.changed_books.add(book_id)
        if isinstance(event, BookCreated):
            batch.books[book_id] = {
                "book_id": book_id,
                "name": event.name,
                "price": event.price,
                "discount_price": event.discount_price,
                "in_stock": event.status == BookStatus.IN_STOCK,
                "deleted": False,
            }
            return
        book = batch.books.get(book_id)
        if book is None:
            raise LookupError(f"{stored.type} of book {book_id}, which was never created")
        if isinstance(event, BookDetailsUpdated):
            book["name"] = event.name
        elif isinstance(event, BookPriceChanged):
            book.update(price=event.price, discount_price=event.discount_price)
        elif isinstance(event, BookStockStatusChanged):
            book["in_stock"] = event.status == BookStatus.IN_STOCK
        elif isinstance(event, BookDeleted):
            book["deleted"] = True

    # -- reading and writing ---------------------------------------------------------------

    @staticmethod
    def _load(tx: SqlTx, tables: t.BasketTables, stored: list[StoredEvent]) -> _Batch:
        conn, batch = tx.connection, _Batch()
        books = {stream_id(s.stream) for s in stored if s.stream.startswith("book-")}
        buyers = sorted({stream_id(s.stream) for s in stored if s.stream.startswith("basket-")})
        batch.books.update(rows_by_key(conn, tables.books, books))
        batch.baskets.update(rows_by_key(conn, tables.baskets, buyers))
        items = tables.items
        for chunk in chunks(buyers):
            batch.items.update({buyer: {} for buyer in chunk})
            for row in conn.execute(select(items).where(items.c.buyer_id.in_(chunk))):
                batch.items[row.buyer_id][row.book_id] = dict(row._mapping)
        return batch

    @staticmethod
    def _write(tx: SqlTx, tables: t.BasketTables, batch: _Batch) -> None:
        conn = tx.connection
        put_rows(conn, tables.books, [batch.books[b] for b in sorted(batch.changed_books)])
        put_rows(conn, tables.baskets, [batch.baskets[b] for b in sorted(batch.baskets)])
        for chunk in chunks(sorted(batch.items)):
            conn.execute(delete(tables.items).where(tables.items.c.buyer_id.in_(chunk)))
        rows = [row for buyer in sorted(batch.items) for row in batch.items[buyer].values()]
        if rows:
            conn.execute(tables.items.insert(), rows)

    @staticmethod
    def _send_answers(tx: SqlTx, tables: t.BasketTables, batch: _Batch) -> None:
        buyers = set(batch.baskets)
        items = tables.items
        for chunk in chunks(sorted(batch.changed_books)):
            holding = select(items.c.buyer_id).where(items.c.book_id.in_(chunk)).distinct()
            buyers.update(tx.connection.scalars(holding))
        for buyer_id, answer in render_baskets(tx.connection, tables, buyers).items():
            tx.effects.send(CACHE_BASKET, (buyer_id, to_json(answer)))
