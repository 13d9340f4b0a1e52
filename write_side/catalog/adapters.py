"""The catalog's ports answered from the event store itself.

`RepositoryBookLookup` is the real `BookLookup`: a book's stream is always current.
`EventStoreCatalogUsage` answers `CatalogUsage` by reading every book stream's events from
`$all` and folding them: correct, but each question reads the whole catalog. It is the slow
stand-in until the catalog query model exists (issue 8), which will implement the port from
its tables; `bootstrap()` then wires that one instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from uuid import UUID

from write_side.catalog.book import Book
from write_side.catalog.events import BOOK_EVENTS
from write_side.catalog.lookup import BookInfo, BookLookup
from write_side.catalog.ports import CatalogUsage
from write_side.domain import Repository
from write_side.envelope import EventRegistry
from write_side.eventstore import EventFilter, EventStore
from write_side.registry import REGISTRY

_BOOK_PREFIX = f"{Book.category}-"


class RepositoryBookLookup(BookLookup):
    """Finds a book by loading its aggregate through the repository."""

    def __init__(self, repository: Repository) -> None:
        self.repository = repository

    def find(self, book_id: UUID) -> BookInfo | None:
        """The book as its stream says now, or None when it never existed."""
        book = self.repository.load(Book, book_id)
        return book.info() if book.exists else None


class EventStoreCatalogUsage(CatalogUsage):
    """Counts books by folding every `book-` stream's events from `$all` (one full read per
    question: the stand-in until the catalog query model answers instead)."""

    def __init__(self, store: EventStore, registry: EventRegistry = REGISTRY) -> None:
        self.store = store
        self.registry = registry

    def books_using_author(self, author_id: UUID) -> int:
        """How many non-deleted books name this author."""
        return self._count(lambda book: author_id in book.author_ids)

    def books_using_category(self, category_id: UUID) -> int:
        """How many non-deleted books are in this category."""
        return self._count(lambda book: book.category_id == category_id)

    def books_using_publisher(self, publisher_id: UUID) -> int:
        """How many non-deleted books have this publisher."""
        return self._count(lambda book: book.publisher_id == publisher_id)

    def _count(self, uses: Callable[[Book], bool]) -> int:
        return sum(1 for book in self._books() if not book.deleted and uses(book))

    def _books(self) -> Iterator[Book]:
        books: dict[str, Book] = {}
        for recorded in self.store.read_all(filter=EventFilter.stream_prefixes(_BOOK_PREFIX)):
            event = self.registry.decode(recorded).event
            if not isinstance(event, BOOK_EVENTS):
                continue  # not a book's event (an unknown type, or a stream merely named so)
            book = books.get(recorded.stream)
            if book is None:
                book_id = _book_id(recorded.stream)
                if book_id is None:
                    continue
                book = books[recorded.stream] = Book(id=book_id)
            book.apply(event)
            book.version = recorded.revision
        return iter(books.values())


def _book_id(stream: str) -> UUID | None:
    try:
        return UUID(stream.removeprefix(_BOOK_PREFIX))
    except ValueError:
        return None
