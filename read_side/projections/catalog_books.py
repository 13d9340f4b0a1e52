"""`book_catalog`: every non-deleted book with what the list and the detail show (SQL target).

Built from the catalog's events and the Rating events. A batch is folded in memory first: the
books it touches are loaded in one query, changed event by event, and written back with one
statement per table; a rename is one UPDATE over the books that use the name. Ratings are kept
per feedback id (a removed one as a tombstone), so a replayed event changes nothing; each touched
book's count, sum and average are then recounted from them.

A row's `version` is its book stream's revision (the API's ETag): each book event sets it;
renames and ratings, which live in other streams, leave it as it is.

After a batch commits, the book detail cache is evicted for every book it changed (its own
events, its ratings) and for every renamed author, category or publisher (`carry_out`; a
rebuild never evicts: the detail cache key names the live build, so a switch misses anyway).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import Connection, bindparam, delete, func, select, update

from read_side.cache import Cache
from read_side.projection import Projection
from read_side.projections import catalog_search
from read_side.projections.catalog_events import (
    Decoded,
    decode,
    name_key,
    of_types,
    to_cents,
)
from read_side.projections.catalog_tables import SUFFIXES, CatalogTables
from read_side.targets.sql import SqlTx, dialect_insert
from write_side.catalog.events import (
    BOOK_EVENTS,
    AuthorCreated,
    AuthorRenamed,
    BookAuthorsReplaced,
    BookCategoryChanged,
    BookCreated,
    BookDeleted,
    BookDetailsUpdated,
    BookPriceChanged,
    BookPublisherChanged,
    BookStockStatusChanged,
    CategoryCreated,
    CategoryRenamed,
    PublisherCreated,
    PublisherRenamed,
)
from write_side.chunking import chunks
from write_side.eventstore import EventFilter, RecordedEvent
from write_side.rating.events import FeedbackCreated, FeedbackDeleted, FeedbackRejected

log = logging.getLogger(__name__)

_REFERENCE_EVENTS = (
    AuthorCreated,
    AuthorRenamed,
    CategoryCreated,
    CategoryRenamed,
    PublisherCreated,
    PublisherRenamed,
)
_RATING_EVENTS = (FeedbackCreated, FeedbackDeleted, FeedbackRejected)


def book_tag(book_id: UUID) -> str:
    """The cache tag of everything cached about one book (its detail)."""
    return f"book_detail:book:{book_id}"


def reference_tag(reference_id: UUID) -> str:
    """The cache tag of every book detail that shows this author, category or publisher."""
    return f"book_detail:ref:{reference_id}"


@dataclass
class _Book:
    """A book while a batch is folded: the row's values and what changed."""

    id: UUID
    values: dict[str, Any]
    author_ids: list[UUID] = field(default_factory=list)
    new: bool = False
    text_changed: bool = False
    authors_changed: bool = False
    deleted: bool = False


@dataclass
class _Batch:
    """What a batch changes, gathered before anything is written."""

    books: dict[UUID, _Book] = field(default_factory=dict)
    names: dict[UUID, tuple[str, str]] = field(default_factory=dict)  # id -> (kind, name)
    renamed: dict[UUID, str] = field(default_factory=dict)  # id -> kind
    ratings: dict[UUID, tuple[UUID, int, bool]] = field(default_factory=dict)  # id -> counted?
    rated_books: set[UUID] = field(default_factory=set)
    removed_positions: list[int] = field(default_factory=list)


#: The Tables a batch writes, made once per build and dialect: a new Table per batch would make
#: SQLAlchemy compile every statement on it again (most of the worker's CPU, measured).
_batch_tables = functools.cache(CatalogTables.named)


class BookCatalogProjection(Projection[SqlTx]):
    """The catalog's book list and detail, with names kept current and ratings counted."""

    name: ClassVar[str] = "book_catalog"
    handles: ClassVar[EventFilter] = of_types(*BOOK_EVENTS, *_REFERENCE_EVENTS, *_RATING_EVENTS)
    target_kind: ClassVar[str] = "sql"
    side_effects: ClassVar[bool] = True

    def __init__(self, cache: Cache | None = None) -> None:
        self.cache = cache

    def tables(self) -> Sequence[str]:
        return SUFFIXES

    def _tables(self, tx: SqlTx, build: int) -> CatalogTables:
        return _batch_tables(tx.table(self.name, build), tx.dialect)

    def create(self, tx: SqlTx, build: int) -> None:
        # Its own Tables: creating the indexes attaches them to the Tables they index.
        tables = CatalogTables.named(tx.table(self.name, build), tx.dialect)
        conn = tx.connection
        for table in (tables.books, tables.authors, tables.refs, tables.ratings):
            table.create(conn)
        for index in tables.indexes():
            index.create(conn)
        catalog_search.create_index(conn, tables)

    # -- folding -------------------------------------------------------------------------------

    def apply(self, events: Sequence[RecordedEvent], tx: SqlTx, build: int) -> None:
        tables = self._tables(tx, build)
        conn = tx.connection
        decoded = list(decode(events))
        batch = _Batch()
        book_ids = {d.stream_id for d in decoded if isinstance(d.event, BOOK_EVENTS)}
        batch.books = self._load(conn, tables, {i for i in book_ids if i is not None})
        for item in decoded:
            if isinstance(item.event, BOOK_EVENTS):
                self._fold_book(batch, item)
            elif isinstance(item.event, _REFERENCE_EVENTS):
                self._fold_reference(batch, item)
            else:
                self._fold_rating(batch, item)
        self._write(conn, tx.dialect, tables, batch)
        tags = {book_tag(i) for i in batch.books} | {book_tag(i) for i in batch.rated_books}
        tags |= {reference_tag(i) for i in batch.renamed}
        if tags:
            tx.effects.send("evict_tags", sorted(tags))

    def _load(self, conn: Connection, tables: CatalogTables, ids: set[UUID]) -> dict[UUID, _Book]:
        books: dict[UUID, _Book] = {}
        columns = [c for c in tables.books.c if c.name != "search"]
        for batch in chunks(sorted(ids)):
            for row in conn.execute(select(*columns).where(tables.books.c.id.in_(batch))):
                values = dict(row._mapping)
                books[values["id"]] = _Book(values["id"], values)
            query = (
                select(tables.authors.c.book_id, tables.authors.c.author_id)
                .where(tables.authors.c.book_id.in_(batch))
                .order_by(tables.authors.c.book_id, tables.authors.c.position)
            )
            for book_id, author_id in conn.execute(query):
                books[book_id].author_ids.append(author_id)
        return books

    def _fold_book(self, batch: _Batch, item: Decoded) -> None:
        event, book_id = item.event, item.stream_id
        if isinstance(event, BookCreated):
            batch.books[event.book_id] = _created(event, item)
            return
        book = batch.books.get(book_id) if book_id is not None else None
        if book is None or book.deleted:
            return  # not a book this model knows (its stream holds no BookCreated)
        values = book.values
        values["version"] = item.revision
        values["updated_at"] = item.occurred_at
        if isinstance(event, BookDetailsUpdated):
            values.update(name=event.name, name_key=name_key(event.name))
            values.update(description=event.description, image=event.image)
            book.text_changed = True
        elif isinstance(event, BookPriceChanged):
            values["price_cents"] = to_cents(event.price)
            discount = event.discount_price
            values["discount_price_cents"] = None if discount is None else to_cents(discount)
        elif isinstance(event, BookAuthorsReplaced):
            book.author_ids = list(event.author_ids)
            book.authors_changed = True
        elif isinstance(event, BookCategoryChanged):
            values["category_id"] = event.category_id
        elif isinstance(event, BookPublisherChanged):
            values["publisher_id"] = event.publisher_id
        elif isinstance(event, BookStockStatusChanged):
            values["status"] = event.status.value
        elif isinstance(event, BookDeleted):
            book.deleted = True
            batch.removed_positions.append(values["created_position"])

    def _fold_reference(self, batch: _Batch, item: Decoded) -> None:
        event = item.event
        if isinstance(event, AuthorCreated):
            batch.names[event.author_id] = ("author", event.name)
        elif isinstance(event, CategoryCreated):
            batch.names[event.category_id] = ("category", event.name)
        elif isinstance(event, PublisherCreated):
            batch.names[event.publisher_id] = ("publisher", event.name)
        elif item.stream_id is not None:
            assert isinstance(event, AuthorRenamed | CategoryRenamed | PublisherRenamed)
            kind = type(event).__name__.removesuffix("Renamed").lower()
            batch.names[item.stream_id] = (kind, event.name)
            batch.renamed[item.stream_id] = kind

    def _fold_rating(self, batch: _Batch, item: Decoded) -> None:
        event, feedback_id = item.event, item.stream_id
        if isinstance(event, FeedbackCreated):
            batch.ratings[event.feedback_id] = (event.book_id, event.rating, True)
            batch.rated_books.add(event.book_id)
        elif feedback_id is not None:
            assert isinstance(event, FeedbackDeleted | FeedbackRejected)
            batch.ratings[feedback_id] = (event.book_id, event.rating, False)
            batch.rated_books.add(event.book_id)

    # -- writing -------------------------------------------------------------------------------

    def _write(self, conn: Connection, dialect: str, tables: CatalogTables, batch: _Batch) -> None:
        if batch.names:
            stmt = dialect_insert(dialect, tables.refs)
            stmt = stmt.on_conflict_do_update(
                index_elements=[tables.refs.c.id], set_={"name": stmt.excluded.name}
            )
            rows = [{"id": i, "kind": k, "name": n} for i, (k, n) in batch.names.items()]
            conn.execute(stmt, rows)
        kept = [b for b in batch.books.values() if not b.deleted]
        gone = [b.id for b in batch.books.values() if b.deleted]
        names = self._names(conn, tables, batch, kept)
        for book in kept:
            values = book.values
            values["category_name"] = names.get(values["category_id"], "")
            values["publisher_name"] = names.get(values["publisher_id"], "")
        for ids in chunks(gone):
            conn.execute(delete(tables.books).where(tables.books.c.id.in_(ids)))
            conn.execute(delete(tables.authors).where(tables.authors.c.book_id.in_(ids)))
        if kept:
            stmt = dialect_insert(dialect, tables.books)
            changing = [c.name for c in tables.books.c if c.name not in ("id", "search")]
            stmt = stmt.on_conflict_do_update(
                index_elements=[tables.books.c.id],
                set_={name: stmt.excluded[name] for name in changing},
            )
            conn.execute(stmt, [b.values for b in kept])
        self._write_authors(conn, tables, [b for b in kept if b.authors_changed], names)
        texts = [b for b in kept if b.text_changed]
        catalog_search.reindex(
            conn,
            tables,
            removed=[*batch.removed_positions, *(b.values["created_position"] for b in texts)],
            added=[
                (v["created_position"], b.id, v["name"], v["description"])
                for b in texts
                for v in (b.values,)
            ],
        )
        self._rename(conn, tables, batch)
        self._rate(conn, dialect, tables, batch, {b.id for b in kept if b.new})

    def _names(
        self, conn: Connection, tables: CatalogTables, batch: _Batch, books: list[_Book]
    ) -> dict[UUID, str]:
        """The current name of every reference the written books use."""
        wanted = {b.values["category_id"] for b in books} | {
            b.values["publisher_id"] for b in books
        }
        wanted |= {a for b in books if b.authors_changed for a in b.author_ids}
        names = {i: n for i, (_, n) in batch.names.items() if i in wanted}
        for ids in chunks(sorted(wanted - names.keys())):
            query = select(tables.refs.c.id, tables.refs.c.name).where(tables.refs.c.id.in_(ids))
            names.update({row.id: row.name for row in conn.execute(query)})
        return names

    def _write_authors(
        self, conn: Connection, tables: CatalogTables, books: list[_Book], names: dict[UUID, str]
    ) -> None:
        for ids in chunks([b.id for b in books]):
            conn.execute(delete(tables.authors).where(tables.authors.c.book_id.in_(ids)))
        rows = [
            {"book_id": b.id, "author_id": a, "position": n, "name": names.get(a, "")}
            for b in books
            for n, a in enumerate(dict.fromkeys(b.author_ids))
        ]
        if rows:
            conn.execute(tables.authors.insert(), rows)

    def _rename(self, conn: Connection, tables: CatalogTables, batch: _Batch) -> None:
        books, authors = tables.books, tables.authors
        targets = {
            "category": (books, books.c.category_id, "category_name"),
            "publisher": (books, books.c.publisher_id, "publisher_name"),
            "author": (authors, authors.c.author_id, "name"),
        }
        for kind, (table, key, column) in targets.items():
            rows = [
                {"ref": i, "new_name": batch.names[i][1]}
                for i, k in batch.renamed.items()
                if k == kind
            ]
            if rows:
                stmt = update(table).where(key == bindparam("ref"))
                conn.execute(stmt.values({column: bindparam("new_name")}), rows)

    def _rate(
        self,
        conn: Connection,
        dialect: str,
        tables: CatalogTables,
        batch: _Batch,
        new_books: set[UUID],
    ) -> None:
        ratings = tables.ratings
        # A removal leaves a tombstone, so even a FeedbackCreated delivered again after it
        # (alone, out of its batch) is never counted twice or brought back.
        rows = [
            {"feedback_id": i, "book_id": book_id, "rating": rating, "counted": counted}
            for i, (book_id, rating, counted) in batch.ratings.items()
        ]
        created = [row for row in rows if row["counted"]]
        if created:
            stmt = dialect_insert(dialect, ratings).on_conflict_do_nothing(
                index_elements=[ratings.c.feedback_id]
            )
            conn.execute(stmt, created)
        removed = [row for row in rows if not row["counted"]]
        if removed:
            stmt = dialect_insert(dialect, ratings)
            stmt = stmt.on_conflict_do_update(
                index_elements=[ratings.c.feedback_id], set_={"counted": stmt.excluded.counted}
            )
            conn.execute(stmt, removed)
        recount = batch.rated_books | new_books
        figures = dict.fromkeys(recount, (0, 0))
        for ids in chunks(sorted(recount)):
            query = (
                select(
                    ratings.c.book_id, func.count(), func.coalesce(func.sum(ratings.c.rating), 0)
                )
                .where(ratings.c.book_id.in_(ids), ratings.c.counted)
                .group_by(ratings.c.book_id)
            )
            figures.update({row[0]: (int(row[1]), int(row[2])) for row in conn.execute(query)})
        if figures:
            books = tables.books
            recounted = update(books).where(books.c.id == bindparam("book"))
            recounted = recounted.values(
                rating_count=bindparam("count"),
                rating_sum=bindparam("sum"),
                rating_average=bindparam("average"),
            )
            conn.execute(
                recounted,
                [
                    {"book": i, "count": n, "sum": s, "average": s / n if n else 0.0}
                    for i, (n, s) in sorted(figures.items())
                ],
            )

    # -- after commit --------------------------------------------------------------------------

    def carry_out(self, sent: list[tuple[str, Any]]) -> None:
        """Evict the book detail cache entries a committed batch made stale (best effort: a
        failure is logged, and the entry expires with its TTL)."""
        if self.cache is None:
            return
        tags = sorted({tag for kind, payload in sent if kind == "evict_tags" for tag in payload})
        try:
            self.cache.evict_tags(*tags)
        except Exception:
            log.exception("book_catalog: could not evict %s from the cache", ", ".join(tags))


def _created(event: BookCreated, item: Decoded) -> _Book:
    discount = event.discount_price
    values: dict[str, Any] = {
        "id": event.book_id,
        "version": item.revision,
        "name": event.name,
        "name_key": name_key(event.name),
        "description": event.description,
        "image": event.image,
        "price_cents": to_cents(event.price),
        "discount_price_cents": None if discount is None else to_cents(discount),
        "status": event.status.value,
        "category_id": event.category_id,
        "category_name": "",
        "publisher_id": event.publisher_id,
        "publisher_name": "",
        "rating_count": 0,
        "rating_sum": 0,
        "rating_average": 0.0,
        "created_at": item.occurred_at,
        "updated_at": item.occurred_at,
        "created_position": item.position,
    }
    return _Book(
        event.book_id,
        values,
        list(event.author_ids),
        new=True,
        text_changed=True,
        authors_changed=True,
    )
