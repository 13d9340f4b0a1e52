"""The simulation's own view of the catalog: what shoppers see when they browse.

The catalog changes only while the staff work (before the shops open each simulated day); while
people shop, the shelf is read-only and the same for everyone, whichever thread they act on.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

from api.simulator.genres import Genre
from api.simulator.genres_nonfiction import GENRES
from api.simulator.writing import BookText


@dataclass
class ShelfBook:
    """A book as the simulation knows it (the same as its stream says, kept in step)."""

    id: UUID
    genre: int
    text: BookText
    price: Decimal
    discount: Decimal | None
    #: How much better (or worse) than its genre readers rate it.
    quality: float
    #: How often it is picked relative to other books of its genre.
    popularity: float
    in_stock: bool = True
    deleted: bool = False
    deleted_on: int | None = None
    #: The day an out-of-stock book comes back.
    restock_day: int | None = None

    @property
    def sellable(self) -> bool:
        """Can be ordered now: in stock and not deleted."""
        return self.in_stock and not self.deleted


@dataclass
class _Aisle:
    books: list[ShelfBook] = field(default_factory=list)
    cumulative: list[float] = field(default_factory=list)


class Shelf:
    """Categories, publishers, authors and books, with popularity-weighted browsing by genre."""

    def __init__(self) -> None:
        self.category_ids: list[UUID] = []
        self.publisher_ids: list[UUID] = []
        #: Author id and the genres the author writes in.
        self.authors: list[tuple[UUID, tuple[int, ...]]] = []
        self.books: list[ShelfBook] = []
        self._by_id: dict[UUID, ShelfBook] = {}
        self._aisles: list[_Aisle] = []
        self._recently_deleted: list[ShelfBook] = []
        self._changed: dict[UUID, ShelfBook] = {}

    @staticmethod
    def genre(index: int) -> Genre:
        """The genre (category) of that index."""
        return GENRES[index]

    def add(self, book: ShelfBook) -> None:
        """A new book on the shelf (seen by shoppers from the next `refresh`)."""
        self.books.append(book)
        self._by_id[book.id] = book
        self._changed[book.id] = book

    def touch(self, book: ShelfBook) -> None:
        """Note that the staff changed `book` (copies of the shelf learn it from `changes`)."""
        self._changed[book.id] = book

    def changes(self) -> list[ShelfBook]:
        """The books added or changed since the last call, in the order first touched."""
        changed, self._changed = list(self._changed.values()), {}
        return changed

    def apply(self, changes: list[ShelfBook]) -> None:
        """Bring a copy of the shelf up to date with another shelf's `changes`."""
        for book in changes:
            known = self._by_id.get(book.id)
            if known is None:
                self.books.append(book)
                self._by_id[book.id] = book
            else:
                self.books[self.books.index(known)] = book
                self._by_id[book.id] = book

    def find(self, book_id: UUID) -> ShelfBook:
        """The book of that id."""
        return self._by_id[book_id]

    def refresh(self, day: int) -> None:
        """Rebuild the aisles after the staff's changes of `day`: shoppers browse live books."""
        self._aisles = [_Aisle() for _ in GENRES]
        for book in self.books:
            if not book.deleted:
                self._aisles[book.genre].books.append(book)
        for aisle in self._aisles:
            aisle.cumulative = list(itertools.accumulate(b.popularity for b in aisle.books))
        self._recently_deleted = [
            b for b in self.books if b.deleted_on is not None and day - b.deleted_on <= 30
        ]

    def pick(self, rng: random.Random, genre: int) -> ShelfBook | None:
        """A live book of the genre, popular ones more often; None when the aisle is empty."""
        aisle = self._aisles[genre]
        if not aisle.books:
            return None
        point = rng.random() * aisle.cumulative[-1]
        return aisle.books[min(bisect.bisect(aisle.cumulative, point), len(aisle.books) - 1)]

    def pick_deleted(self, rng: random.Random) -> ShelfBook | None:
        """A book deleted in the last 30 days (a stale page someone still has open), if any."""
        return rng.choice(self._recently_deleted) if self._recently_deleted else None

    def live_books(self) -> list[ShelfBook]:
        """Books not deleted, in the order they were added."""
        return [b for b in self.books if not b.deleted]
