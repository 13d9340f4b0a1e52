"""The tables of `book_catalog`, described once for the projection (build tables) and for the
queries (the stable views of the same names without `_v<N>`).

- `book_catalog`: one row per non-deleted book, with its stream revision (`version`, the ETag
  of the API), category and publisher names, rating count, sum and average, and (on
  PostgreSQL) the `search` tsvector;
- `book_catalog_authors`: a book's authors in order, with their names (the "any author"
  filter and `CatalogUsage` read it);
- `book_catalog_refs`: the current name of every author, category and publisher, so a book
  created or moved later finds it;
- `book_catalog_ratings`: one row per feedback, counted until deleted or rejected (so a
  replay changes nothing);
- `book_catalog_search` (SQLite only): the FTS5 index over name and description.

Money is kept in whole cents (exact and comparable on both stores); names sort by `name_key`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

from read_side.targets.sql import UtcDateTime

#: The tsvector of a book on PostgreSQL ("simple": no stemming, like FTS5's unicode61).
PG_DOCUMENT = "to_tsvector('simple'::regconfig, name || ' ' || description)"

SUFFIXES = ("", "authors", "refs", "ratings", "search")


@dataclass(frozen=True)
class CatalogTables:
    """The five tables of one build (or the five stable views) of `book_catalog`."""

    books: Table
    authors: Table
    refs: Table
    ratings: Table
    search: Table

    @classmethod
    def named(cls, base: str, dialect: str) -> CatalogTables:
        """The tables whose names start with `base` (`book_catalog_v3` or `book_catalog`)."""
        metadata = MetaData()
        books = Table(
            base,
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("version", BigInteger, nullable=False),
            Column("name", Text, nullable=False),
            Column("name_key", Text, nullable=False),
            Column("description", Text, nullable=False),
            Column("image", Text),
            Column("price_cents", BigInteger, nullable=False),
            Column("discount_price_cents", BigInteger),
            Column("status", String(20), nullable=False),
            Column("category_id", Uuid, nullable=False),
            Column("category_name", Text, nullable=False),
            Column("publisher_id", Uuid, nullable=False),
            Column("publisher_name", Text, nullable=False),
            Column("rating_count", Integer, nullable=False),
            Column("rating_sum", Integer, nullable=False),
            Column("rating_average", Double, nullable=False),
            Column("created_at", UtcDateTime, nullable=False),
            Column("updated_at", UtcDateTime, nullable=False),
            Column("created_position", BigInteger, nullable=False),
            *(
                [Column("search", TSVECTOR, Computed(PG_DOCUMENT, persisted=True))]
                if dialect == "postgresql"
                else []
            ),
        )
        authors = Table(
            f"{base}_authors",
            metadata,
            Column("book_id", Uuid, primary_key=True),
            Column("author_id", Uuid, primary_key=True),
            Column("position", Integer, nullable=False),
            Column("name", Text, nullable=False),
        )
        refs = Table(
            f"{base}_refs",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("kind", String(10), nullable=False),
            Column("name", Text, nullable=False),
        )
        ratings = Table(
            f"{base}_ratings",
            metadata,
            Column("feedback_id", Uuid, primary_key=True),
            Column("book_id", Uuid, nullable=False),
            Column("rating", Integer, nullable=False),
            Column("counted", Boolean, nullable=False),
        )
        # FTS5 on SQLite; the rowid is the book's `created_position` (its BookCreated).
        search = Table(
            f"{base}_search",
            metadata,
            Column("rowid", BigInteger),
            Column("book_id", Uuid),
            Column("document", Text),
        )
        return cls(books, authors, refs, ratings, search)

    def indexes(self) -> list[Index]:
        """The indexes of a build's tables (named after them, so builds never clash)."""
        books, name = self.books, self.books.name
        found = [
            Index(f"{name}_by_name", books.c.name_key, books.c.id),
            Index(f"{name}_by_price", books.c.price_cents),
            Index(f"{name}_by_category", books.c.category_id),
            Index(f"{name}_by_publisher", books.c.publisher_id),
            Index(f"{name}_by_created", books.c.created_at, books.c.created_position),
            Index(f"{name}_by_rating", books.c.rating_average),
            Index(f"{self.authors.name}_by_author", self.authors.c.author_id),
            Index(f"{self.ratings.name}_by_book", self.ratings.c.book_id),
        ]
        if "search" in books.c:
            found.append(Index(f"{name}_search", books.c.search, postgresql_using="gin"))
        return found
