"""`CatalogUsage` answered from the `book_catalog` query model (eventually consistent).

Wired by the composition root in place of the write side's event-store scan:
`bootstrap(store, keys, ports={CatalogUsage: BookCatalogUsage(engine)})`.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import ColumnElement, Engine, Table, func, select

from read_side.projections.catalog_tables import CatalogTables
from write_side.catalog.ports import CatalogUsage


class BookCatalogUsage(CatalogUsage):
    """Counts non-deleted books per author, category or publisher in `book_catalog`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tables = CatalogTables.named("book_catalog", engine.dialect.name)

    def books_using_author(self, author_id: UUID) -> int:
        """How many non-deleted books name this author."""
        authors = self.tables.authors
        return self._count(authors, authors.c.author_id == author_id)

    def books_using_category(self, category_id: UUID) -> int:
        """How many non-deleted books are in this category."""
        books = self.tables.books
        return self._count(books, books.c.category_id == category_id)

    def books_using_publisher(self, publisher_id: UUID) -> int:
        """How many non-deleted books have this publisher."""
        books = self.tables.books
        return self._count(books, books.c.publisher_id == publisher_id)

    def _count(self, table: Table, condition: ColumnElement[bool]) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table).where(condition)) or 0)
