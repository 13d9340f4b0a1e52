"""The book detail served through the cache port: JSON bytes, 30 minutes, tagged per book.

An entry is tagged with its book and with each author, category and publisher it shows, so
`book_catalog` evicts it when the book, its ratings or one of those names change. Its key names
the live build of `book_catalog`: after a blue/green switch (which evicts nothing, since a
rebuild carries out no side effects) every entry of the old build is simply never read again.

What is left: a reader that loaded the detail just before a batch committed can store it just
after that batch's eviction; such an entry lives until its TTL, as with any cache-aside.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy import Connection, select

from read_side.cache import Cache
from read_side.projections.catalog_books import BookCatalogProjection, book_tag, reference_tag
from read_side.queries.catalog import BookView, book_detail
from read_side.targets.sql import live_builds

#: How long a book's detail is served from the cache (DOMAIN.md: 30 minutes).
BOOK_DETAIL_TTL = timedelta(minutes=30)


def detail_key(build: int, book_id: UUID) -> str:
    """The cache key of a book's detail as build `build` of `book_catalog` answers it."""
    return f"book_detail:v{build}:{book_id}"


def detail_tags(book: BookView) -> list[str]:
    """Every tag an entry of this book's detail is stored with."""
    references = [book.category.id, book.publisher.id, *(a.id for a in book.authors)]
    return [book_tag(book.id), *(reference_tag(r) for r in dict.fromkeys(references))]


def cached_book_detail(conn: Connection, cache: Cache, book_id: UUID) -> bytes | None:
    """A book's detail as JSON bytes (from the cache when there), or None when no such book.

    The bytes are `BookView.model_dump_json()`, ready to send as they are.
    """
    build = conn.scalar(
        select(live_builds.c.build).where(live_builds.c.projection == BookCatalogProjection.name)
    )
    if build is None:
        return None  # the model was never built: no book yet
    hit = cache.get(detail_key(build, book_id))
    if hit is not None:
        return hit
    return load_book_detail(conn, cache, build, book_id)


def load_book_detail(conn: Connection, cache: Cache, build: int, book_id: UUID) -> bytes | None:
    """A book's detail read from the query model (build `build` live) and cached; None when
    no such book."""
    book = book_detail(conn, book_id)
    if book is None:
        return None
    answer = book.model_dump_json().encode()
    cache.set(detail_key(build, book_id), answer, ttl=BOOK_DETAIL_TTL, tags=detail_tags(book))
    return answer
