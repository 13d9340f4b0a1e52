"""The catalog's ports answered from the event store itself.

`RepositoryBookLookup` is the real `BookLookup`: a book's stream is always current (it keeps
what it folded and asks the stream only whether it has moved).
`EventStoreCatalogUsage` answers `CatalogUsage` by reading every book stream's events from
`$all` and folding them: correct, but each question reads the whole catalog. It is the slow
stand-in until the catalog query model exists (issue 8), which will implement the port from
its tables; `bootstrap()` then wires that one instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
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
    """Finds a book by loading its aggregate through the repository.

    Each answer is kept with the stream revision it was folded from. A later question reads
    only the stream's last revision and folds the stream again when it has moved, so every
    answer is as current as a full load (a book's events are only ever appended) for a read of
    one event instead of all of them. Answers are immutable, so threads share them; at most
    `capacity` books are kept (the oldest answers are dropped first).
    """

    def __init__(self, repository: Repository, *, capacity: int = 50_000) -> None:
        self.repository = repository
        self.capacity = capacity
        self._known: dict[UUID, tuple[int, BookInfo]] = {}

    def find(self, book_id: UUID) -> BookInfo | None:
        """The book as its stream says now, or None when it never existed."""
        known = self._known.get(book_id)
        if known is not None and known[0] == self.repository.revision(Book, book_id):
            return known[1]
        book = self.repository.load(Book, book_id)
        if not book.exists:
            return None
        info = book.info()
        if known is None and len(self._known) >= self.capacity:
            with suppress(StopIteration, KeyError, RuntimeError):  # another thread took it
                del self._known[next(iter(self._known))]
        self._known[book_id] = (book.version, info)
        return info


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
