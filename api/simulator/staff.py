"""The shop's staff: they open the catalog, then change it each night, before shoppers come.

Staff work on one thread, alone, in the first hour of each day (the shop's maintenance window,
when no shopper comes): what they change (prices, stock, new releases, deletions) is what every
shopper of the day sees, on the shelf and in the store alike.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from api.simulator.acting import Stage, rng_for
from api.simulator.genres_nonfiction import GENRES
from api.simulator.people import author_names, publisher_names
from api.simulator.shelf import Shelf, ShelfBook
from api.simulator.writing import book_text, discount_for, list_price, revised_description
from write_side import catalog
from write_side.catalog import BookStatus
from write_side.domain import Command

ADMIN = "admin"
AUTHORS = 50
PUBLISHERS = 20
#: Share of the books on the shelf when the shop opens; the rest are released day by day.
OPENING_SHARE = 0.9


@dataclass(frozen=True)
class DailyRates:
    """Per-day chances that a live book changes (the share of books touched each day)."""

    out_of_stock: float = 0.0025
    reprice: float = 0.008
    new_details: float = 0.001
    #: Of the whole run: the share of books deleted by its end.
    deleted_by_end: float = 0.015


class Staff:
    """Creates the catalog through the catalog's commands and changes it day by day."""

    def __init__(self, shelf: Shelf, seed: int, books: int, days: int) -> None:
        self.shelf = shelf
        self.seed = seed
        self.books = books
        self.days = days
        self.rates = DailyRates()
        self._releases: dict[int, int] = {}

    def open_shop(self, stage: Stage) -> None:
        """The day before opening: categories, publishers, authors and most of the books."""
        stage.rng = rng = rng_for(self.seed, "staff", "opening")
        stage.at(-1, 8 * 60)
        for genre in GENRES:
            created = stage.require(catalog.CreateCategory(name=genre.name, **_ids(stage)))
            self.shelf.category_ids.append(created.aggregate_id)
            stage.pause(5, 30)
        for name in publisher_names(rng, PUBLISHERS):
            created = stage.require(catalog.CreatePublisher(name=name, **_ids(stage)))
            self.shelf.publisher_ids.append(created.aggregate_id)
            stage.pause(5, 30)
        for index, name in enumerate(author_names(rng, AUTHORS)):
            genres = tuple(sorted({index % len(GENRES), rng.randrange(len(GENRES))}))
            created = stage.require(catalog.CreateAuthor(name=name, **_ids(stage)))
            self.shelf.authors.append((created.aggregate_id, genres))
            stage.pause(5, 30)
        opening = max(1, round(self.books * OPENING_SHARE)) if self.books else 0
        for _ in range(opening):
            self._create_book(stage, rng)
        for _ in range(self.books - opening):
            day = rng.randrange(1, self.days) if self.days > 1 else 0
            self._releases[day] = self._releases.get(day, 0) + 1
        self.shelf.refresh(0)

    def night(self, stage: Stage, day: int) -> None:
        """The changes of `day`: releases, restocks, stock-outs, prices, blurbs, deletions."""
        stage.rng = rng = rng_for(self.seed, "staff", day)
        stage.at(day, rng.randrange(10))
        for _ in range(self._releases.pop(day, 0)):
            self._create_book(stage, rng)
        for book in self.shelf.books:
            if book.restock_day == day and not book.deleted:
                self._set_stock(stage, book, in_stock=True)
        live = self.shelf.live_books()
        in_stock = [b for b in live if b.in_stock]
        for book in _some(rng, in_stock, self.rates.out_of_stock):
            self._set_stock(stage, book, in_stock=False)
            book.restock_day = day + rng.randint(2, 10)
            self.shelf.touch(book)
        for book in _some(rng, live, self.rates.reprice):
            self._reprice(stage, rng, book)
        for book in _some(rng, live, self.rates.new_details):
            description = revised_description(book.text, GENRES[book.genre], rng)
            command = catalog.UpdateBookDetails(
                book_id=book.id, name=book.text.name, description=description, **_ids(stage)
            )
            self._send(stage, command)
            book.text = replace(book.text, description=description)
            self.shelf.touch(book)
        for book in _some(rng, live, self.rates.deleted_by_end / max(1, self.days)):
            self._send(stage, catalog.DeleteBook(book_id=book.id, **_ids(stage)))
            book.deleted, book.deleted_on = True, day
            self.shelf.touch(book)
        self.shelf.refresh(day)

    # -- one book ------------------------------------------------------------------------------

    def _create_book(self, stage: Stage, rng: random.Random) -> None:
        genre_index = rng.choices(range(len(GENRES)), weights=[g.weight for g in GENRES])[0]
        genre = GENRES[genre_index]
        text = book_text(genre, rng)
        price = list_price(genre, rng)
        discount = discount_for(price, rng) if rng.random() < 0.2 else None
        writers = [a for a, genres in self.shelf.authors if genre_index in genres]
        authors = tuple(rng.sample(writers, 2 if rng.random() < 0.15 else 1))
        created = stage.require(
            catalog.CreateBook(
                name=text.name,
                description=text.description,
                price=price,
                discount_price=discount,
                category_id=self.shelf.category_ids[genre_index],
                publisher_id=rng.choice(self.shelf.publisher_ids),
                author_ids=authors,
                **_ids(stage),
            )
        )
        self.shelf.add(
            ShelfBook(
                id=created.aggregate_id,
                genre=genre_index,
                text=text,
                price=price,
                discount=discount,
                quality=rng.gauss(0.0, 0.5),
                popularity=rng.paretovariate(1.3),
            )
        )
        stage.pause(1, 5)

    def _set_stock(self, stage: Stage, book: ShelfBook, *, in_stock: bool) -> None:
        status = BookStatus.IN_STOCK if in_stock else BookStatus.OUT_OF_STOCK
        self._send(stage, catalog.SetBookStock(book_id=book.id, status=status, **_ids(stage)))
        book.in_stock = in_stock
        if in_stock:
            book.restock_day = None
        self.shelf.touch(book)

    def _reprice(self, stage: Stage, rng: random.Random, book: ShelfBook) -> None:
        """A promotion starts or ends, or the list price moves."""
        price, discount = book.price, book.discount
        if discount is not None and rng.random() < 0.6:
            discount = None
        elif rng.random() < 0.7:
            discount = discount_for(price, rng)
        else:
            price = max(price + rng.choice((-2, -1, 1, 1, 2, 3)), Decimal("4.99"))
            discount = None if discount is None or discount >= price else discount
        changed = catalog.ChangeBookPrice(
            book_id=book.id, price=price, discount_price=discount, **_ids(stage)
        )
        self._send(stage, changed)
        book.price, book.discount = price, discount
        self.shelf.touch(book)

    @staticmethod
    def _send(stage: Stage, command: Command) -> None:
        stage.require(command)
        stage.pause(5, 30)


def _ids(stage: Stage) -> dict[str, Any]:
    """A staff command's id (from the day's generator) and actor."""
    return {"command_id": stage.new_id(), "actor": ADMIN}


def _some(rng: random.Random, books: list[ShelfBook], rate: float) -> list[ShelfBook]:
    """About `rate` of `books`, at random (a fractional expectation is rounded at random)."""
    expected = len(books) * rate
    count = min(len(books), int(expected) + (1 if rng.random() < expected % 1 else 0))
    return rng.sample(books, count) if count else []
