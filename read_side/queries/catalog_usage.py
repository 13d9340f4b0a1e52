"""`CatalogUsage` answered from the `book_catalog` query model (eventually consistent).

Wired by the composition root in place of the write side's event-store scan, which stays as
the answer until the model has been built once:

    usage = BookCatalogUsage(engine, until_built=EventStoreCatalogUsage(store))
    bootstrap(store, keys, ports={CatalogUsage: usage})
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import ColumnElement, Engine, Table, func, inspect, select

from read_side.projections.catalog_books import BookCatalogProjection
from read_side.projections.catalog_tables import CatalogTables
from write_side.catalog.ports import CatalogUsage


class CatalogNotBuilt(Exception):
    """`book_catalog` has never been built in this database, and nothing else may answer."""


class BookCatalogUsage(CatalogUsage):
    """Counts non-deleted books per author, category or publisher in `book_catalog`.

    Before the model's first build there is nothing to count: `until_built` answers then
    (the event-store scan, say); without it the question raises `CatalogNotBuilt` rather
    than answer 0 and let a delete through.
    """

    def __init__(self, engine: Engine, *, until_built: CatalogUsage | None = None) -> None:
        self.engine = engine
        self.until_built = until_built
        self.tables = CatalogTables.named(BookCatalogProjection.name, engine.dialect.name)
        self._built = False

    def books_using_author(self, author_id: UUID) -> int:
        """How many non-deleted books name this author."""
        if not self._ready():
            return self._fallback().books_using_author(author_id)
        authors = self.tables.authors
        return self._count(authors, authors.c.author_id == author_id)

    def books_using_category(self, category_id: UUID) -> int:
        """How many non-deleted books are in this category."""
        if not self._ready():
            return self._fallback().books_using_category(category_id)
        books = self.tables.books
        return self._count(books, books.c.category_id == category_id)

    def books_using_publisher(self, publisher_id: UUID) -> int:
        """How many non-deleted books have this publisher."""
        if not self._ready():
            return self._fallback().books_using_publisher(publisher_id)
        books = self.tables.books
        return self._count(books, books.c.publisher_id == publisher_id)

    def _ready(self) -> bool:
        if not self._built:  # once built, the stable views stay (a rebuild only repoints them)
            with self.engine.connect() as conn:
                inspector = inspect(conn)
                names = {self.tables.books.name, self.tables.authors.name}
                self._built = names <= {*inspector.get_view_names(), *inspector.get_table_names()}
        return self._built

    def _fallback(self) -> CatalogUsage:
        if self.until_built is None:
            raise CatalogNotBuilt("book_catalog has not been built yet: run the worker")
        return self.until_built

    def _count(self, table: Table, condition: ColumnElement[bool]) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table).where(condition)) or 0)
