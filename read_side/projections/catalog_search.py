"""Keyword search over a book's name and description, one interface on both stores.

SQLite: an FTS5 table beside the books (`unicode61`, diacritics kept), written by the
projection. PostgreSQL: a generated `tsvector` column ("simple" configuration) with a GIN
index, which needs no writes of its own. A query's words (letters and digits) must all occur,
each as a word prefix, case-insensitively: "analyt engine" finds "The Analytical Engine".
Tokenizers differ at the edges (PostgreSQL reads e-mail addresses and URLs as single words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, bindparam, delete, func, literal_column, select

from read_side.projections.catalog_tables import CatalogTables
from write_side.chunking import chunks

_WORD = re.compile(r"[^\W_]+")


def terms(text: str) -> list[str]:
    """The words of a search text (letters and digits), lower-cased, in order, once each."""
    return list(dict.fromkeys(word.lower() for word in _WORD.findall(text)))


def create_index(connection: Connection, tables: CatalogTables) -> None:
    """Create the search structures of a build (the GIN index on PostgreSQL comes with the
    books table's indexes)."""
    if connection.dialect.name != "sqlite":
        return
    quoted = connection.dialect.identifier_preparer.quote(tables.search.name)
    connection.exec_driver_sql(
        f"CREATE VIRTUAL TABLE {quoted} USING fts5("
        "book_id UNINDEXED, document, tokenize = 'unicode61 remove_diacritics 0')"
    )


def reindex(
    connection: Connection,
    tables: CatalogTables,
    *,
    removed: Iterable[int],
    added: Sequence[tuple[int, UUID, str, str]],
) -> None:
    """Drop the entries at `removed` rowids, then index `added` (rowid, id, name, description).

    A no-op on PostgreSQL, where the books table's generated column is the index.
    """
    if connection.dialect.name != "sqlite":
        return
    search = tables.search
    for batch in chunks(removed):
        connection.execute(delete(search).where(search.c.rowid.in_(batch)))
    if added:
        connection.execute(
            search.insert(),
            [
                {"rowid": rowid, "book_id": book_id, "document": f"{name} {description}"}
                for rowid, book_id, name, description in added
            ],
        )


def matching(dialect: str, tables: CatalogTables, text: str) -> ColumnElement[bool] | None:
    """A condition on `tables.books` for books matching every word of `text` (None: no words)."""
    words = terms(text)
    if not words:
        return None
    books = tables.books
    if dialect == "postgresql":
        query = " & ".join(f"{word}:*" for word in words)
        tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("fts", query))
        return books.c.search.bool_op("@@")(tsquery)
    fts = " AND ".join(f'"{word}"*' for word in words)
    found = select(tables.search.c.book_id).where(
        tables.search.c.document.bool_op("MATCH")(bindparam("fts", fts))
    )
    return books.c.id.in_(found)
