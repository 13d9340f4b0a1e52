"""Readers who rate books: anonymous visitors, and the buyers' reviews of what they bought.

A review is rated around its genre's mean and the book's own quality. Now and then a reader
tries to rate the same book again (the store refuses: one feedback per book and reviewer
names), the staff remove a review, or a reader rates a book deleted since (the store takes it;
the "catalog rating update" process rejects it later).
"""

from __future__ import annotations

import random
from uuid import UUID

from api.simulator.acting import Actor, Stage, office_minute, waking_minute
from api.simulator.genres_nonfiction import GENRES
from api.simulator.people import Person
from api.simulator.shelf import Shelf, ShelfBook
from api.simulator.writing import comment, rating
from write_side import rating as ratings

#: Of the reviews posted: those tried again later, and those the staff remove.
TRIED_AGAIN = 0.04
REMOVED = 0.03
#: Of an anonymous reader's reviews: those of a book deleted since it was read.
OF_A_DELETED_BOOK = 0.02
_GENRE_WEIGHTS = [genre.weight for genre in GENRES]


class Reviewer(Actor):
    """Someone who posts feedback under their own names (unique among the simulation's people)."""

    def __init__(self, kind: str, index: int, person: Person, shelf: Shelf) -> None:
        super().__init__(kind, index)
        self.person = person
        self.shelf = shelf
        self.reviewed: set[UUID] = set()

    @property
    def user(self) -> str | None:
        """Who sends the commands (None: an anonymous visitor)."""
        return None

    def review(self, stage: Stage, day: int, minute: int, book_id: UUID) -> None:
        """Rate a book; maybe plan a second try or a removal by the staff."""
        book = self.shelf.find(book_id)
        posted = self._post(stage, book)
        self.reviewed.add(book_id)
        if posted is None:
            return
        chance = stage.rng.random()
        if chance < TRIED_AGAIN:
            self.plan(day + stage.rng.randint(1, 7), waking_minute(stage.rng), self.retry, book_id)
        elif chance < TRIED_AGAIN + REMOVED:
            self.plan(day + stage.rng.randint(1, 10), office_minute(stage.rng), self.remove, posted)

    def retry(self, stage: Stage, day: int, minute: int, book_id: UUID) -> None:
        """Rate a book already rated (the store refuses it: `feedback_already_given`)."""
        self._post(stage, self.shelf.find(book_id))

    def remove(self, stage: Stage, day: int, minute: int, feedback_id: UUID) -> None:
        """The staff remove the review."""
        stage.require(
            ratings.DeleteFeedback(
                feedback_id=feedback_id, command_id=stage.new_id(), actor="admin"
            )
        )

    def _post(self, stage: Stage, book: ShelfBook) -> UUID | None:
        rng = stage.rng
        genre = GENRES[book.genre]
        stars = rating(genre, book.quality, rng)
        posted = stage.send(
            ratings.CreateFeedback(
                book_id=book.id,
                first_name=self.person.first,
                last_name=self.person.last,
                comment=comment(genre, stars, book.text.slots, rng),
                rating=stars,
                command_id=stage.new_id(),
                actor=self.user,
            )
        )
        stage.pause()
        return None if posted is None else posted.aggregate_id


class Reader(Reviewer):
    """An anonymous visitor who rates books of a favourite genre, on one to three visits."""

    def __init__(self, index: int, person: Person, shelf: Shelf, day: int, minute: int) -> None:
        super().__init__("reader", index, person, shelf)
        self.genre = -1
        self.visits_left = 0
        self.plan(day, minute, self.visit)

    def visit(self, stage: Stage, day: int, minute: int, payload: object) -> None:
        """Rate a few books (the first visit also settles who the reader is)."""
        rng = stage.rng
        if self.genre < 0:
            self.genre = rng.choices(range(len(GENRES)), weights=_GENRE_WEIGHTS)[0]
            self.visits_left = rng.choice((1, 1, 1, 2, 3))
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            book = self._choose(rng)
            if book is not None:
                self.review(stage, day, minute, book.id)
        self.visits_left -= 1
        if self.visits_left > 0:
            self.plan(day + rng.randint(1, 20), waking_minute(rng), self.visit)

    def _choose(self, rng: random.Random) -> ShelfBook | None:
        if rng.random() < OF_A_DELETED_BOOK:
            book = self.shelf.pick_deleted(rng)
        else:
            genre = self.genre if rng.random() < 0.8 else rng.randrange(len(GENRES))
            book = self.shelf.pick(rng, genre)
        return None if book is None or book.id in self.reviewed else book
